"""`bridges doctor` against the sandbox: all ok, then each failure named on its own line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from bot.tools.sandbox import Sandbox
from storage.db import create_engine, upgrade_schema

TOKEN = "123456:" + "D" * 35


async def doctor(tmp_path: Path, **env: str) -> tuple[int, dict[str, str], str]:
    """Run `bridges doctor` in a subprocess; its exit code, its lines by check, all output."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGES_")}
    clean.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.ops.cli",
        "doctor",
        cwd=tmp_path,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines: dict[str, str] = {}
    for line in out.decode().splitlines():
        mark, name, detail = line.split(maxsplit=2)
        lines[name] = f"{mark} {detail}"
    assert process.returncode is not None
    return process.returncode, lines, out.decode() + err.decode()


async def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'doctor.db'}"
    engine = create_engine(url)
    await upgrade_schema(engine)
    await engine.dispose()
    return url


async def doctor_on_sandbox(
    tmp_path: Path,
    *,
    database_url: str | None = None,
    token: str = TOKEN,
    sandbox_token: str | None = TOKEN,
    **env: str,
) -> tuple[int, dict[str, str], str]:
    """`bridges doctor` with `token`, pointed at a sandbox Bot API whose token is
    `sandbox_token` (None: the sandbox's own default) and at `database_url` (a freshly
    migrated SQLite file unless given); the same result as `doctor`."""
    if database_url is None:
        database_url = await migrated_sqlite(tmp_path)
    sandbox = Sandbox() if sandbox_token is None else Sandbox(token=sandbox_token)
    async with sandbox:
        return await doctor(
            tmp_path,
            BRIDGES_TELEGRAM_TOKEN=token,
            BRIDGES_TELEGRAM_BASE_URL=sandbox.base_url,
            BRIDGES_DATABASE_URL=database_url,
            **env,
        )


async def test_doctor_passes_against_the_sandbox(tmp_path: Path):
    code, lines, output = await doctor_on_sandbox(tmp_path)
    assert code == 0, output
    assert list(lines) == ["token", "database", "migrations", "lessons", "webhook", "clock"]
    assert all(line.startswith("ok ") for line in lines.values()), output
    assert "@BridgesBot" in lines["token"]
    assert "long polling" in lines["webhook"]
    assert "Bot API's clock" in lines["clock"]  # the sandbox's Date header was compared
    assert "\033[" not in output  # no colour when stdout is not a terminal
    assert TOKEN.split(":")[1] not in output


async def test_doctor_fails_clearly_with_a_bad_token(tmp_path: Path):
    wrong = "654321:" + "W" * 35
    code, lines, output = await doctor_on_sandbox(tmp_path, token=wrong)
    assert code == 1
    assert lines["token"].startswith("FAIL") and "refused the token" in lines["token"]
    assert lines["database"].startswith("ok")
    assert wrong.split(":")[1] not in output


async def test_doctor_notices_a_webhook_that_does_not_match(tmp_path: Path):
    code, lines, _ = await doctor_on_sandbox(
        tmp_path, BRIDGES_WEBHOOK_URL="https://bridges.example/telegram"
    )
    assert code == 1
    assert lines["webhook"].startswith("FAIL") and "posts to nothing" in lines["webhook"]


async def test_doctor_fails_clearly_when_the_database_is_down(tmp_path: Path):
    code, lines, output = await doctor_on_sandbox(
        tmp_path, database_url="postgresql://postgres:pw-not-shown@127.0.0.1:1/bridges"
    )
    assert code == 1
    assert lines["database"].startswith("FAIL") and "127.0.0.1:1" in lines["database"]
    assert lines["token"].startswith("ok")
    assert "pw-not-shown" not in output
    assert "Traceback" not in output


async def test_doctor_fails_clearly_on_an_unmigrated_database(
    tmp_path: Path, postgres_database: str
):
    connection = await asyncpg.connect(postgres_database)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    code, lines, _ = await doctor_on_sandbox(tmp_path, database_url=postgres_database)
    assert code == 1
    assert lines["database"].startswith("ok")
    assert lines["migrations"].startswith("FAIL") and "bridges db upgrade" in lines["migrations"]


async def test_doctor_says_upgrade_bridges_when_the_database_is_newer(tmp_path: Path):
    """`bridges db upgrade` cannot help a database a newer Bridges migrated: say what can."""
    from sqlalchemy import text

    url = await migrated_sqlite(tmp_path)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()
    code, lines, output = await doctor_on_sandbox(tmp_path, database_url=url)
    assert code == 1
    assert lines["database"].startswith("ok")
    migrations = lines["migrations"]
    assert migrations.startswith("FAIL") and "this Bridges is older than the database" in migrations
    assert migrations.endswith("upgrade Bridges") and "db upgrade" not in migrations
    assert "Traceback" not in output


async def test_doctor_against_python_m_bot_sandbox_with_its_default_token(tmp_path: Path):
    """What the README suggests: `bridges doctor` pointed at the sandbox with its own token."""
    from bot.tools.sandbox.server import SANDBOX_TOKEN

    code, lines, output = await doctor_on_sandbox(tmp_path, token=SANDBOX_TOKEN, sandbox_token=None)
    assert code == 0, output
    assert lines["token"].startswith("ok")
