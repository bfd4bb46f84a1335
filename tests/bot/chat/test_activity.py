"""Update handling: concurrent across learners, in order per learner, never blocked by one."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.chat.activity import Activity, TrackingUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Learner", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))  # type: ignore[arg-type]


async def test_one_learners_burst_never_holds_up_another_learner():
    processor = TrackingUpdateProcessor(Activity(), concurrency=4)
    order: list[str] = []
    release = asyncio.Event()

    async def slow(name: str) -> None:
        await release.wait()
        order.append(name)

    async def quick(name: str) -> None:
        order.append(name)

    burst = [
        asyncio.create_task(processor.process_update(_update(n, 1), slow(f"one-{n}")))
        for n in range(10)  # more than the four shared slots
    ]
    await asyncio.sleep(0)
    other = asyncio.create_task(processor.process_update(_update(99, 2), quick("two")))
    async with asyncio.timeout(5):
        await other  # not stuck behind learner 1's queued updates
    release.set()
    await asyncio.gather(*burst)
    assert order[0] == "two"
    assert [name for name in order if name.startswith("one")] == [f"one-{n}" for n in range(10)]
