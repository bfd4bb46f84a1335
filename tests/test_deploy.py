"""deploy/ as CI can check it without a container engine: every name in it is real.

Compose services have an image or build, every command parses with the CLI's
own argparse parser, every BRIDGES_* variable named anywhere in deploy/
exists in Settings, the example env file lists every setting, and the
Dockerfile builds and installs through deploy/wheel.sh like CI does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.ops.cli import build_parser
from bot.ops.settings import Settings

DEPLOY = Path(__file__).parent.parent / "deploy"
VARIABLE = re.compile(r"\bBRIDGES_[A-Z0-9_]+\b")
SETTINGS = {f"BRIDGES_{name.upper()}" for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _bridges_services() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in _services().items() if name not in {"postgres", "proxy"}}


def _parses(argv: list[str]) -> None:
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as error:  # argparse exits on a bad command line
        pytest.fail(f"`bridges {' '.join(argv)}` is not a bridges command: {error}")


def test_every_service_has_an_image_or_a_build():
    assert _bridges_services()  # the bot's own services, besides postgres and the proxy
    for name, spec in _services().items():
        assert "image" in spec or "build" in spec, name
    for name, spec in _bridges_services().items():
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert spec["env_file"] == "bridges.env", name


def test_every_compose_command_is_a_bridges_command():
    commands = {name: spec["command"] for name, spec in _bridges_services().items()}
    assert set(commands) >= {"migrate", "bot", "worker"}
    for argv in commands.values():
        _parses(argv)
    assert commands["migrate"] == ["db", "upgrade"]
    assert commands["bot"][:2] == ["run", "--webhook"]
    assert commands["worker"][0] == "worker"


def test_bots_wait_for_the_migration_and_postgres_is_checked():
    services = _services()
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["postgres"]["volumes"][0].split(":")[0] in _compose()["volumes"]
    for name in ("bot", "worker", "polling"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["polling"]["profiles"] == ["polling"]
    assert services["bot"]["deploy"]["replicas"] >= 1


def test_systemd_units_run_real_commands():
    for unit in ("bridges.service", "bridges-worker.service"):
        text = (DEPLOY / unit).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        [start] = [line for line in lines if line.startswith("ExecStart=")]
        argv = shlex.split(start.removeprefix("ExecStart="))
        assert argv[0] == "/opt/bridges/bin/bridges", unit
        _parses(argv[1:])
        for directive in (
            "DynamicUser=yes",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "Restart=on-failure",
            "TimeoutStopSec=30",
        ):
            assert directive in lines, f"{unit}: {directive}"
        assert any(line.startswith("StateDirectory=") for line in lines), unit


@pytest.mark.parametrize(
    "name",
    [
        "compose.yaml",
        "bridges.env.example",
        "bridges.service",
        "bridges-worker.service",
        "Dockerfile",
    ],
)
def test_every_variable_named_in_deploy_is_a_setting(name: str):
    named = set(VARIABLE.findall((DEPLOY / name).read_text(encoding="utf-8")))
    assert named - SETTINGS == set()


def _env_example() -> tuple[dict[str, str], set[str]]:
    """The example's settings with their values, and which of them are commented out."""
    values: dict[str, str] = {}
    commented: set[str] = set()
    for line in (DEPLOY / "bridges.env.example").read_text(encoding="utf-8").splitlines():
        setting = re.fullmatch(r"(# )?(BRIDGES_[A-Z0-9_]+)=(.*)", line)
        if setting:
            values[setting[2]] = setting[3]
            if setting[1]:
                commented.add(setting[2])
    return values, commented


def test_the_env_example_lists_every_setting_with_its_default():
    values, commented = _env_example()
    assert set(values) == SETTINGS
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = values[f"BRIDGES_{name.upper()}"]
        if default is None or name == "telegram_token":
            assert shown == "", name
        elif isinstance(default, float) and default.is_integer():
            assert float(shown) == default, name
        else:
            assert shown == str(default), name


def test_the_dockerfile_builds_and_installs_with_wheel_sh():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN sh deploy/wheel\.sh build /dist$", text, re.MULTILINE)
    assert re.search(r"^RUN sh \S*deploy/wheel\.sh install /dist /opt/bridges", text, re.MULTILINE)
    assert text.count("FROM python:3.12-slim") == 2
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert 'ENTRYPOINT ["/opt/bridges/bin/bridges"]' in text
    assert 'CMD ["run"]' in text
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "/healthz" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    for forbidden in ("TELEGRAM_TOKEN=", "gcc", "build-essential"):
        assert forbidden not in text


def test_the_env_example_leaves_no_optional_setting_empty():
    """`NAME=` in an env file overrides the image's value with "unset" (the HEALTHCHECK's port)."""
    values, commented = _env_example()
    empty = {name for name, value in values.items() if value == "" and name not in commented}
    assert empty == {"BRIDGES_TELEGRAM_TOKEN"}  # the one value the operator must fill in
    assert {"BRIDGES_METRICS_PORT", "BRIDGES_WEBHOOK_URL", "BRIDGES_WEBHOOK_SECRET"} <= commented


def _healthcheck() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", text, re.MULTILINE)
    assert match is not None, "no exec-form HEALTHCHECK"
    argv = json.loads(match[1])
    assert isinstance(argv, list)
    return [str(arg) for arg in argv]


class _Healthz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def _healthz_server(status: int) -> Iterator[int]:
    handler = type("Handler", (_Healthz,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_healthcheck(**env: str) -> int:
    argv = _healthcheck()
    assert argv[:2] == ["/opt/bridges/bin/python", "-c"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGES_")}
    clean.update(env)
    result = subprocess.run(  # noqa: S603 - our own interpreter and the Dockerfile's code
        [sys.executable, "-c", argv[2]], env=clean, capture_output=True, timeout=30
    )
    return result.returncode


def test_the_healthcheck_finds_the_port_whichever_role_serves_it():
    """An env file blanks BRIDGES_METRICS_PORT: the webhook's listen port still answers."""
    closed = str(_free_port())
    with _healthz_server(200) as port:
        assert _run_healthcheck(BRIDGES_METRICS_PORT="", BRIDGES_LISTEN_PORT=str(port)) == 0
        assert _run_healthcheck(BRIDGES_METRICS_PORT=str(port), BRIDGES_LISTEN_PORT=closed) == 0
    with _healthz_server(503) as port:
        assert _run_healthcheck(BRIDGES_METRICS_PORT=str(port), BRIDGES_LISTEN_PORT=closed) == 1
    assert _run_healthcheck(BRIDGES_METRICS_PORT=closed, BRIDGES_LISTEN_PORT=closed) == 1


def test_the_image_keeps_its_sqlite_file_in_a_volume():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^VOLUME /var/lib/bridges$", text, re.MULTILINE)
    assert re.search(r"^WORKDIR /var/lib/bridges$", text, re.MULTILINE)
    assert "BRIDGES_DATABASE_URL=sqlite:////var/lib/bridges/bridges.db" in text
    assert "docker run -v " in text  # the usage line shows the volume


def test_compose_bakes_no_password_and_overrides_no_setting():
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "bridges:bridges@" not in text
    services = _services()
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?"), password
    assert _bridges_services()
    for name, spec in _bridges_services().items():
        overrides = spec.get("environment", {})
        assert not any(str(key).startswith("BRIDGES_") for key in overrides), name


def test_only_the_proxy_is_published_and_it_forwards_only_the_webhook():
    services = _services()
    for name, spec in services.items():
        if name != "proxy":
            assert "ports" not in spec, f"{name} publishes ports; only the proxy may"
    assert services["bot"]["expose"] == ["8080"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:2")
    assert proxy["ports"] == ["80:80", "443:443"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in caddyfile.splitlines())
    assert "{$WEBHOOK_DOMAIN} {" in code  # Caddy's automatic HTTPS for the operator's domain
    assert code.count("reverse_proxy") == 1
    forwarded = code[code.index("handle /telegram {") : code.index("reverse_proxy")]
    assert forwarded.strip() == "handle /telegram {"
    assert "name bot" in code and "port 8080" in code
    assert "respond 404" in code
    assert "healthz" not in code and "metrics" not in code


HARDENING = (
    "CapabilityBoundingSet=",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallFilter=@system-service",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectKernelTunables=yes",
    "ProtectClock=yes",
    "LockPersonality=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "UMask=0077",
)


@pytest.mark.parametrize("unit", ["bridges.service", "bridges-worker.service"])
def test_systemd_units_are_hardened(unit: str):
    lines = (DEPLOY / unit).read_text(encoding="utf-8").splitlines()
    for directive in HARDENING:
        assert directive in lines, f"{unit}: {directive}"
    # Not verified with CPython's libffi: it must not slip in unnoticed.
    assert not any(line.startswith("MemoryDenyWriteExecute=") for line in lines)


def test_systemd_analyze_verifies_the_units(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    root = tmp_path / "root"
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in ("bridges.service", "bridges-worker.service"):
        shutil.copy(DEPLOY / unit, units / unit)
    (root / "etc/bridges").mkdir()
    (root / "etc/bridges/bridges.env").write_text("", encoding="utf-8")
    command = root / "opt/bridges/bin/bridges"
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\n", encoding="utf-8")
    command.chmod(0o755)
    system = Path("/usr/lib/systemd/system")
    shipped = root / "usr/lib/systemd/system"
    shipped.mkdir(parents=True)
    for path in system.iterdir():
        if path.is_file() and path.suffix in {".target", ".service", ".slice", ".socket"}:
            shutil.copy(path, shipped / path.name)
    result = subprocess.run(  # noqa: S603 - the system's own tool
        [
            analyze,
            "verify",
            f"--root={root}",
            "/etc/systemd/system/bridges.service",
            "/etc/systemd/system/bridges-worker.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # every directive known, none ignored


def _wheel_names(dist: Path) -> set[str]:
    [wheel] = dist.glob("bridges-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _leave_stale_builds(checkout: Path) -> None:
    """What an earlier `pip wheel` in the tree leaves: a migration deleted since, egg-info."""
    stale = checkout / "build/lib/storage/migrations/versions/0099_deleted_since.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("revision = '0099'\n", encoding="utf-8")
    egg = checkout / "bridges.egg-info"
    egg.mkdir()
    (egg / "SOURCES.txt").write_text("storage/migrations/versions/0099_deleted_since.py\n")


@pytest.mark.parametrize("git", [True, False], ids=["git-checkout", "plain-copy"])
def test_wheel_sh_builds_from_a_clean_copy(tmp_path: Path, git: bool):
    root = DEPLOY.parent
    git_command, sh_command = shutil.which("git"), shutil.which("sh")
    assert git_command is not None and sh_command is not None
    tracked = subprocess.run(  # noqa: S603 - git on our own checkout
        [git_command, "-C", str(root), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    checkout = tmp_path / "checkout"
    for name in filter(None, tracked.split("\0")):
        source = root / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    if git:
        quiet = {"capture_output": True, "check": True, "cwd": checkout}
        subprocess.run([git_command, "init", "-q"], **quiet)  # noqa: S603
        subprocess.run([git_command, "add", "-A"], **quiet)  # noqa: S603
        subprocess.run(  # noqa: S603
            [git_command, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
            **quiet,
        )
        untracked = checkout / "storage/migrations/versions/0098_untracked.py"
        untracked.write_text("revision = '0098'\n", encoding="utf-8")
    _leave_stale_builds(checkout)
    dist = tmp_path / "dist"
    result = subprocess.run(  # noqa: S603 - the script under test
        [sh_command, str(checkout / "deploy/wheel.sh"), "build", str(dist)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    names = _wheel_names(dist)
    assert "storage/migrations/versions/0002_delivery_resends.py" in names
    assert "storage/migrations/script.py.mako" in names
    assert not any("0099" in name or "0098" in name for name in names), sorted(names)
    assert (checkout / "build/lib/storage/migrations/versions/0099_deleted_since.py").exists()
