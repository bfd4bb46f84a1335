"""deploy/ as CI can check it without a container engine: every name in it is real.

Compose services have an image or build, every command parses with the CLI's
own argparse parser, every BRIDGES_* variable named anywhere in deploy/
exists in Settings, the example env file lists every setting, and the
Dockerfile builds and installs through deploy/wheel.sh like CI does.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.settings import Settings

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
    return {name: spec for name, spec in _services().items() if name != "postgres"}


def _parses(argv: list[str]) -> None:
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as error:  # argparse exits on a bad command line
        pytest.fail(f"`bridges {' '.join(argv)}` is not a bridges command: {error}")


def test_every_service_has_an_image_or_a_build():
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


def test_the_env_example_lists_every_setting_with_its_default():
    values: dict[str, str] = {}
    for line in (DEPLOY / "bridges.env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
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
