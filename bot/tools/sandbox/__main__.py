"""Run the sandbox by hand: ``python -m bot.tools.sandbox --port 8081 --user 42``.

Point a bot at the printed base URL (``BRIDGES_TELEGRAM_BASE_URL``) and the token; every
message the bot sends to a sandbox user is printed here (not with ``--quiet``). Stop with
Ctrl-C. For benchmarks and scale-out tests:

    python -m bot.tools.sandbox --quiet --flood off --auto-users --record-limit 1000
    python -m bot.tools.sandbox --flood strict --chat-burst 3 \
        --fault sendMessage,drop,probability=0.01

then steer it at run time through ``POST /sandbox/control`` and read ``GET /sandbox/stats``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.tools.sandbox.faults import Fault
from bot.tools.sandbox.limits import FLOOD_MODES
from bot.tools.sandbox.server import SANDBOX_TOKEN, Sandbox
from bot.tools.sandbox.state import BotMessage, SandboxUser


def _show(user: SandboxUser, message: BotMessage, kind: str) -> None:
    print(f"[{kind} -> {user.id} #{message.message_id}] {message.text}", flush=True)  # noqa: T201
    for row in message.buttons:
        labels = " | ".join(f"[{button.text}]" for button in row)
        print(f"    {labels}", flush=True)  # noqa: T201


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(
        args.token,
        flood=args.flood,
        strict_global_limit=args.global_limit,
        strict_chat_burst=args.chat_burst,
        auto_users=args.auto_users,
        seed=args.seed,
        record_limit=args.record_limit,
    )
    for fault in args.fault:
        sandbox.arm(fault)
    for user_id in args.user:
        sandbox.user(user_id)
    if not args.quiet:
        sandbox.add_listener(_show)
    await sandbox.start(args.host, args.port)
    try:
        # The sandbox's token is no secret: print it so a bot can be pointed here at once.
        print(f"sandbox Bot API: base_url={sandbox.base_url}", flush=True)  # noqa: T201
        print(f"sandbox token: {args.token}", flush=True)  # noqa: T201
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def _fault(spec: str) -> Fault:
    try:
        return Fault.from_spec(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=SANDBOX_TOKEN)
    parser.add_argument(
        "--user", type=int, action="append", default=[], help="create a user with this id"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the bot's messages")
    parser.add_argument(
        "--flood",
        choices=FLOOD_MODES,
        default="bucket",
        help="429 limiter: token buckets (default), Telegram's strict shape, or off",
    )
    parser.add_argument(
        "--global-limit", type=int, default=30, help="strict: sends per sliding second"
    )
    parser.add_argument("--chat-burst", type=int, default=3, help="strict: per-chat burst")
    parser.add_argument(
        "--auto-users", action="store_true", help="create users on the first send to them"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the probabilistic faults")
    parser.add_argument(
        "--record-limit", type=int, default=None, help="keep only the newest N request records"
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="METHOD,KIND[,key=value...]",
        help="arm a fault, e.g. sendMessage,error,status=502,count=3 or "
        "sendMessage,delay,delay=5,probability=0.1 (kinds: error, drop, delay)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
