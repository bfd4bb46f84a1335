"""Plain text, shared locations and everything else that is not a command or a button.

Buttons route by their own pattern (bot/chat/app.py, bot/chat/handlers/buttons.py).
Every text and caption passes the safety screen first (bot/chat/handlers/safety.py),
before anyone is asked to /start and before a typed setting or an answer is read.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from telegram import Update

from bot.chat.handlers import checkin, onboarding, safety
from bot.chat.handlers.common import Context, current_learner, language_of, reply, say
from storage.kept import voice_words
from storage.views import LearnerView


async def text(update: Update, context: Context) -> None:
    message = update.effective_message
    forwarded = message is not None and message.forward_origin is not None
    # Someone else's words, passed on, are screened (care first) but never kept as theirs.
    if await safety.screened(update, context, message.text if message else None, own=not forwarded):
        return
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    if forwarded:
        await reply(update, say(learner.language, "message-forwarded"))
        return
    if message is not None and message.text and _only_emoji(message.text):
        svc = context.services  # a feeling is kept too, as a note for the day
        await svc.repo.keep_note(
            learner.id, message.text, svc.clock(), message_id=message.message_id
        )
        await reply(update, await _warm_line(context, learner))
        return
    await checkin.free_text(update, context, learner)


async def edited(update: Update, context: Context) -> None:
    """An edited text or caption: screened for crisis and abuse words first, then, if its
    words were kept (an answer, a note, words for a tap, from this round or an earlier
    one), the kept words change and the old ones stay in the history. An edit of
    anything else (a command, a typed setting) changes nothing and gets no reply."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    words = (message.text or message.caption or "").strip()
    caught = await safety.screened(update, context, words, keep=False)
    if not words:
        return
    svc = context.services
    outcome = await svc.repo.edit_kept(
        user.id, message.message_id, words, svc.clock(), private=caught
    )
    if caught or outcome in ("unknown", "same"):
        return  # care said all there is to say; or nothing Bridges kept changed
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    await reply(update, say(language, "edit-typed" if outcome == "typed" else "edit-kept"))


async def location(update: Update, context: Context) -> None:
    """A shared location sets the time zone (onboarding, or any time later)."""
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    await onboarding.location(update, context, learner)


async def not_text(update: Update, context: Context) -> None:
    """Everything but text: a photo's caption counts as text; a voice or video note may be
    an answer (bot/chat/handlers/checkin.py `voice`); a sticker gets a warm line
    (and how to answer, when a check-in is open); anything else one polite line. None
    of them is an error (a caption is screened first, like every text)."""
    message = update.effective_message
    forwarded = message is not None and message.forward_origin is not None
    caption = message.caption if message else None
    if await safety.screened(update, context, caption, own=not forwarded):
        return
    learner = await current_learner(update, context)
    if message is None or learner is None:
        await reply(update, say(language_of(update, learner), "error-not-started"))
        return
    if forwarded:
        await reply(update, say(learner.language, "message-forwarded"))
    elif message.caption:
        await checkin.free_text(update, context, learner, message.caption)
        if (note := message.voice or message.video_note) is not None:
            # The caption was the words; the voice note itself is kept beside them.
            svc = context.services
            await svc.repo.keep_note(
                learner.id,
                voice_words(_seconds(note.duration)),
                svc.clock(),
                message_id=message.message_id,
                voice_file_id=note.file_id,
            )
    elif (note := message.voice or message.video_note) is not None:
        await checkin.voice(update, context, learner, note.file_id, _seconds(note.duration))
    elif message.sticker is not None:
        await reply(update, await _warm_line(context, learner))
    else:
        await reply(update, say(learner.language, "error-not-text"))


def _seconds(length: timedelta | int) -> int:
    """A note's length: a timedelta under PTB_TIMEDELTA, else whole seconds."""
    return int(length.total_seconds()) if isinstance(length, timedelta) else int(length)


def _only_emoji(text: str) -> bool:
    """Nothing but emoji (and spaces): a feeling, not yet words for a check-in."""
    stripped = "".join(char for char in text if not char.isspace())
    return (
        bool(stripped)
        and not any(char.isalnum() for char in stripped)
        and any(unicodedata.category(char) == "So" for char in stripped)  # "?" is no emoji
    )


async def _warm_line(context: Context, learner: LearnerView) -> str:
    """A warm word for a sticker or an emoji, and how to answer if a check-in is open."""
    svc = context.services
    found = await svc.repo.button_checkin(learner.id, svc.clock())
    open_now = found is not None and not found.answered  # a check-in with buttons, unanswered
    return say(learner.language, "message-emoji", open=open_now)
