"""Run the sandbox by hand: ``python -m bot.sandbox --port 8081 --user 42``.

Point a bot at the printed base URL (``BRIDGES_TELEGRAM_BASE_URL``) and the token; every
message the bot sends to a sandbox user is printed here. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.server import SANDBOX_TOKEN, Sandbox
from bot.sandbox.state import BotMessage, SandboxUser


def _show(user: SandboxUser, message: BotMessage, kind: str) -> None:
    print(f"[{kind} -> {user.id} #{message.message_id}] {message.text}", flush=True)  # noqa: T201
    for row in message.buttons:
        labels = " | ".join(f"[{button.text}]" for button in row)
        print(f"    {labels}", flush=True)  # noqa: T201


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(args.token)
    for user_id in args.user:
        sandbox.user(user_id)
    sandbox.add_listener(_show)
    await sandbox.start(args.host, args.port)
    try:
        print(f"sandbox Bot API: base_url={sandbox.base_url}", flush=True)  # noqa: T201
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=SANDBOX_TOKEN)
    parser.add_argument(
        "--user", type=int, action="append", default=[], help="create a user with this id"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
