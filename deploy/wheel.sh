#!/usr/bin/env sh
# Build Bridges' wheel, or install a built wheel into a virtual environment.
# The Dockerfile and CI (.ci/wheel-check) both call this, so the image installs
# exactly what CI has tested.
#
#   deploy/wheel.sh build DIST          build the wheel from a clean copy of this checkout
#                                       (its tracked files) into DIST
#   deploy/wheel.sh install DIST VENV   make VENV (if needed) and install DIST's wheel into it
set -eu

usage() { echo "usage: $0 build DIST | install DIST VENV" >&2; exit 2; }

[ $# -ge 2 ] || usage
action=$1 dist=$2
case "$action" in
  build)
    root=$(cd "$(dirname "$0")/.." && pwd)
    mkdir -p "$dist"
    dist=$(cd "$dist" && pwd)
    rm -f "$dist"/bridges-*.whl
    # Build from a clean copy, never the tree itself: setuptools packs whatever an earlier
    # build left in build/ (a migration deleted since would still ship). In a git checkout
    # the copy is the tracked files as they are now; elsewhere (the image's build stage)
    # everything but build/, dist/, *.egg-info, .venv and caches.
    src=$(mktemp -d "${TMPDIR:-/tmp}/bridges-src.XXXXXX")
    trap 'rm -rf "$src"' EXIT
    python3 - "$root" "$src" <<'PY'
import shutil
import subprocess
import sys
from pathlib import Path

root, dest = Path(sys.argv[1]), Path(sys.argv[2])
SKIP = {"build", "dist", ".venv", ".git", "__pycache__", ".mypy_cache", ".pytest_cache"}
try:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    files = [root / name for name in listed.split("\0") if name]
except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
    files = [
        path
        for path in root.rglob("*")
        if not any(
            part in SKIP or part.endswith(".egg-info") for part in path.relative_to(root).parts
        )
    ]
for path in files:
    if path.is_file():  # a tracked file deleted in the work tree is not shipped
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
PY
    python3 -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$src"
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
