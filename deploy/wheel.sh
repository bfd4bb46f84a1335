#!/usr/bin/env sh
# Build Bridges' wheel, or install a built wheel into a virtual environment.
# The Dockerfile and CI (.ci/wheel-check) both call this, so the image installs
# exactly what CI has tested.
#
#   deploy/wheel.sh build DIST          build the wheel from this checkout into DIST
#   deploy/wheel.sh install DIST VENV   make VENV (if needed) and install DIST's wheel into it
set -eu

usage() { echo "usage: $0 build DIST | install DIST VENV" >&2; exit 2; }

[ $# -ge 2 ] || usage
action=$1 dist=$2
case "$action" in
  build)
    root=$(cd "$(dirname "$0")/.." && pwd)
    mkdir -p "$dist"
    rm -f "$dist"/bridges-*.whl
    python3 -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$root"
    ls "$dist"/bridges-*.whl
    ;;
  install)
    [ $# -eq 3 ] || usage
    venv=$3
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    # One wheel, built above; its dependencies come from the package index.
    "$venv/bin/python" -m pip install --quiet "$dist"/bridges-*.whl
    ;;
  *) usage ;;
esac
