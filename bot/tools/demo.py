"""`bridges demo`: chat with Bridges in this terminal, offline.

It runs the sandbox Bot API, the real bot and its scheduler on a fresh SQLite
file, and a terminal "phone": bot messages are printed readably with their
buttons numbered; type a number to press a button, anything else is sent as a
message, and `:next` jumps to whatever is due next: your lesson, its evening
check-in or a snoozed lesson (the clock moves, the tick runs at once), and
`:as Sam` picks up another phone (a second learner, to try /together: what
reaches a phone you are not holding is printed too, marked with its owner). Photos
(the /progress chart) and documents (/export) are saved and their paths
printed. The demo's day starts at 07:00 in Amsterdam, so a run reads the same
whenever it is started. Standard input is read in a thread, so it also runs
piped and ends at the end of input.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from contextlib import AsyncExitStack
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from bot.chat.activity import Activity
from bot.chat.app import build_application
from bot.chat.format import local_when
from bot.ops.logs import configure_logging
from bot.ops.runner import running
from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from lessons.loader import load_course
from scheduler.clock import ShiftedClock
from scheduler.due import next_due_at
from scheduler.tick import run_tick
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo

LEARNER_ID = 1001
INVITE_LINK = re.compile(r"t\.me/\w+\?start=(pair-[A-Z0-9]+)")
DEMO_ZONE = "Europe/Amsterdam"
DEMO_TICK_SECONDS = 2.0
IDLE_TIMEOUT = 30.0
HELP = """\
Type as you would in Telegram: /start, /today, /progress, /pause, /help …
  a number   presses that button on the newest message with buttons
  :next      jump to what is due next (lesson, evening check-in, snoozed lesson)
  :as Sam    pick up Sam's phone (a second learner; :as Alex goes back)
  :open      tap the newest invite link (from /together) on this phone
  :help      this help        :quit   leave (so does the end of input)"""


class Phone:
    """Prints what the learners see; remembers each one's newest buttons to press by number.

    `learner` is the phone in hand; messages to the others (`:as Sam`) are printed too,
    marked with whose phone they reached, and their buttons wait for that phone.
    """

    def __init__(self, out: TextIO, learner: SandboxUser, media: Path | None = None) -> None:
        self.out = out
        self.media = media or Path(tempfile.gettempdir()) / "bridges-demo"
        self.learner = learner
        self.phones: dict[int, SandboxUser] = {learner.id: learner}
        self.fancy = out.isatty()
        self.shown: dict[tuple[int, int], str] = {}
        # Per phone: the newest buttons and the message they are on.
        self.keys: dict[int, tuple[list[str], int | None]] = {}
        self.invite: str | None = None  # the newest invite link's start payload

    @property
    def buttons(self) -> list[str]:
        return self.keys.get(self.learner.id, ([], None))[0]

    @property
    def button_message(self) -> int | None:
        return self.keys.get(self.learner.id, ([], None))[1]

    def hold(self, learner: SandboxUser) -> None:
        """Pick up this learner's phone (the next input is theirs)."""
        self.phones[learner.id] = learner
        self.learner = learner

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.fancy else text

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def on_message(self, user: SandboxUser, message: BotMessage, kind: str) -> None:
        if user.id not in self.phones or kind not in ("new", "edit"):
            return
        buttons, button_message = self.keys.get(user.id, ([], None))
        if message.buttons:
            buttons = [button.text for row in message.buttons for button in row]
            button_message = message.message_id
        elif message.message_id == button_message:
            buttons, button_message = [], None
        self.keys[user.id] = (buttons, button_message)
        seen = (user.id, message.message_id)
        if kind == "edit" and self.shown.get(seen) == message.text:
            return  # only the buttons went away
        self.shown[seen] = message.text
        if found := INVITE_LINK.search(message.text):
            self.invite = found.group(1)
        owner = "" if user.id == self.learner.id else f" (to {user.first_name})"
        prefix = self._style(f"Bridges{owner} ›", "1;36")
        upload = message.photo or message.document
        if upload is not None and kind == "new":
            self.media.mkdir(parents=True, exist_ok=True)
            what = "photo" if message.photo is not None else "document"
            path = self.media / f"{what}-{message.message_id}-{upload.filename}"
            path.write_bytes(upload.data)
            self.line(f"{prefix} ({what} saved to {path})")
        body = message.text.strip().splitlines() or [""]
        self.line(f"{prefix} {body[0]}")
        for text in body[1:]:
            self.line(f"          {text}")
        if message.buttons:
            numbered, index = [], 1
            for row in message.buttons:
                numbered.append("  ".join(f"[{index + i}] {b.text}" for i, b in enumerate(row)))
                index += len(row)
            for row_text in numbered:
                self.line("          " + self._style(row_text, "33"))
        self.line()


def _phone_of(sandbox: Sandbox, phone: Phone, name: str, language: str) -> SandboxUser:
    """The learner called `name` (any case), or a new one with the next id."""
    for learner in phone.phones.values():
        if learner.first_name.lower() == name.lower():
            return learner
    return sandbox.user(LEARNER_ID + len(phone.phones), name, language_code=language)


def _next_morning(now: datetime) -> datetime:
    """The next 07:00 in Amsterdam (06:00 UTC in winter): where the demo's day starts."""
    return next_due_at(time(7, 0), DEMO_ZONE, now)


async def run_demo(
    *, database: str | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the demo until `:quit` or the end of input; returns the exit status."""
    configure_logging(os.environ.get("BRIDGES_LOG_LEVEL", "WARNING"))
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    async with AsyncExitStack() as stack:
        temporary = database is None
        if database is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bridges-demo-"))
            database = str(Path(folder) / "demo.db")
        engine = create_engine(f"sqlite:///{database}")
        stack.push_async_callback(engine.dispose)
        await upgrade_schema(engine)
        sandbox = await stack.enter_async_context(Sandbox())
        language = "nl" if os.environ.get("LANG", "").lower().startswith("nl") else "en"
        learner = sandbox.user(LEARNER_ID, "Alex", language_code=language)
        phone = Phone(out, learner)
        sandbox.add_listener(phone.on_message)
        clock = ShiftedClock()
        clock.jump_to(_next_morning(clock()))
        activity = Activity()
        repo = Repo(engine)
        app = build_application(
            token=sandbox.token,
            base_url=sandbox.base_url,
            repo=repo,
            course=load_course(),
            clock=clock,
            tick_seconds=DEMO_TICK_SECONDS,
            activity=activity,
        )
        await stack.enter_async_context(running(app, poll_timeout=1))
        services = app.bot_data.services

        async def settle() -> None:
            await sandbox.wait_idle(
                timeout=IDLE_TIMEOUT, extra=lambda: activity.idle and app.update_queue.empty()
            )

        async def next_day() -> None:
            found = await repo.get_learner(phone.learner.id)
            now = clock()
            # Whatever comes first on any phone: a lesson, a check-in, a partner's answer.
            dues = [
                learner.next_due_at
                for learner in [await repo.get_learner(each) for each in phone.phones]
                if learner is not None and learner.next_due_at is not None
            ]
            notice = await repo.next_pair_notice()
            dues += [notice] if notice is not None else []
            target = max(min(dues), now) if dues else now + timedelta(days=1)
            clock.jump_to(target)
            zone = found.timezone if found and found.timezone else "UTC"
            phone.line(
                f"── {local_when(clock(), zone, found.language if found else 'en')} ({zone}) ──"
            )
            if not dues:
                phone.line("(no lesson is scheduled: finish /start, or /resume after a pause)")
            async with activity.working():
                await run_tick(clock, services.delivery)
            await settle()

        phone.line("Bridges demo: you are Alex, chatting with Bridges on a pretend phone.")
        phone.line(HELP)
        phone.line()
        loop = asyncio.get_running_loop()
        while True:
            raw = await loop.run_in_executor(None, stdin.readline)
            if raw == "":
                break
            line = raw.rstrip("\n")
            if not phone.fancy or not stdin.isatty():
                phone.line(f"you › {line}")
            command = line.strip().lower()
            if command in (":quit", ":q", ":exit"):
                break
            if command == ":help":
                phone.line(HELP)
                continue
            if command in (":next", ":n", ":tomorrow"):
                await next_day()
                continue
            if command == ":open":  # as tapping the t.me link: /start with its payload
                if phone.invite is None:
                    phone.line("(no invite link yet: /together makes one)")
                    continue
                phone.learner.send(f"/start {phone.invite}")
                await settle()
                continue
            if command.startswith(":as"):
                name = line.strip()[3:].strip()[:32] or "Sam"
                phone.hold(_phone_of(sandbox, phone, name, language))
                phone.line(f"── you are {phone.learner.first_name} now, on their own phone ──")
                continue
            index = int(command) - 1 if command.isdigit() else -1
            if phone.buttons and 0 <= index < len(phone.buttons):
                phone.learner.press(phone.buttons[index], message_id=phone.button_message)
            elif command.isdigit() and phone.buttons:
                # No such button: the number is typed, as a learner would ("4" for a scale).
                phone.line(f"(no button {command}: sent as a typed message)")
                phone.learner.send(line)
            elif line.strip():
                phone.learner.send(line)
            else:
                continue
            await settle()
        phone.line(
            "Bye! (The demo's database was temporary and is gone now.)" if temporary else "Bye!"
        )
    return 0
