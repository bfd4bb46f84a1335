"""Care first: a message that speaks of crisis or abuse, an answer that says "someone is
hurting me", and /sos.

Every text a learner sends (and every caption, edit and the words after a command)
passes `screened` before any other handler answers it, whether or not they have
started, whatever step they are on. A caught message is answered with care and the
help lines for the learner's country, chosen for what it speaks of (the emergency
number first), and with nothing else: no streak, no feedback line, no lesson, no
hint. The reply goes out before anything is written, and does not wait on the
database being well: a person who writes "ik wil dood" is answered even when
storage is failing. What they wrote as a check-in answer is then kept, private
(never shown back in a later lesson). The words are never logged; metrics count
only that a reply was given, by concern.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.chat.handlers.common import Context, command_args, language_of, reply, say
from bot.ops import metrics
from lessons.helplines import Country, Purpose, helpline_lines, helpline_table
from lessons.screen import Concern
from scheduler.places import find_place
from storage.views import LearnerView

log = logging.getLogger(__name__)

# What each concern's reply shows, in this order: the emergency number always first.
PURPOSES: dict[Concern, tuple[Purpose, ...]] = {
    Concern.CRISIS: (Purpose.EMERGENCY, Purpose.SUICIDE, Purpose.TALK),
    Concern.ABUSE: (Purpose.EMERGENCY, Purpose.ABUSE),
}


def care(language: str, timezone: str | None, concerns: tuple[Concern, ...]) -> str:
    """The whole reply to a caught message: care for the first concern (crisis before
    abuse), then the lines for every concern it spoke of, emergency first."""
    purposes: list[Purpose] = []
    for concern in concerns:
        purposes.extend(p for p in PURPOSES[concern] if p not in purposes)
    table = helpline_table()
    country = table.country_for(timezone)
    shown = say(
        language,
        f"safety-{concerns[0].value}",
        helplines=table.lines(country, language, purposes),
    )
    if country is None:  # no zone, or one we have no lines for: say where to find them
        shown += "\n\n" + say(language, "sos-elsewhere", others=_others())
    return shown


def _country_named(given: str) -> Country | None:
    """The country a learner named after /sos: by its name or code ("be", "Ierland"), or
    by a place in it ("Utrecht", "Leeds")."""
    table = helpline_table()
    if (country := table.country(given)) is not None:
        return country
    place = find_place(given)
    if place is None or not place.sure:
        return None
    code = table.country_for(place.zone)
    return table.country(code) if code else None


def _others() -> str:
    """ "/sos NL, /sos BE, /sos UK, …": how to ask for each country's lines."""
    return ", ".join(f"/sos {country.short}" for country in helpline_table().countries)


def harm_lines(language: str, timezone: str | None) -> tuple[str, ...]:
    """The lines that follow an answer such as "someone is hurting me now"."""
    return helpline_lines(timezone, language, PURPOSES[Concern.ABUSE])


async def screened(
    update: Update,
    context: Context,
    text: str | None,
    *,
    keep: bool = True,
    own: bool = True,
) -> bool:
    """Answer with care if `text` speaks of crisis or abuse; True when it did (the caller
    then says no more). With `keep`, the words answer an open text check-in, privately.
    Words that are not the learner's own (`own=False`: forwarded) get the same care but
    are neither kept nor put the learner in care."""
    concerns = context.services.safety.concerns(text)
    if not concerns:
        return False
    metrics.safety_reply(concerns[0].value)
    learner = await _learner(update, context)
    # A stranger (or one whose row cannot be read) is answered in the language they wrote.
    language = learner.language if learner else None
    language = language or context.services.safety.language_of(text) or language_of(update, None)
    await reply(update, care(language, learner.timezone if learner else None, concerns))
    if learner is not None and text and own:
        message = update.effective_message
        await _keep(context, learner, text, message.message_id if message else None, keep=keep)
    return True


async def command_words(update: Update, context: Context) -> None:
    """Runs before every command: "/sos he is hurting me", "/help i want to die" or an
    unknown command with such words are met with care, and the command does not run."""
    message = update.effective_message
    words = (message.text or "").partition(" ")[2] if message else ""
    if words and await screened(update, context, words, keep=False):
        raise ApplicationHandlerStop


async def _learner(update: Update, context: Context) -> LearnerView | None:
    """The learner, or None when unknown or when storage cannot say (care goes out anyway)."""
    user = update.effective_user
    if user is None:
        return None
    try:
        return await context.services.repo.get_learner(user.id)
    except Exception:  # noqa: BLE001 - the care reply must not wait on the database
        log.exception(
            "safety reply: the learner could not be read; answering with the neutral lines"
        )
        return None


async def _keep(
    context: Context, learner: LearnerView, text: str, message_id: int | None, *, keep: bool
) -> None:
    """From now on, care for this learner (no streak shown, every answer private); with
    `keep`, the words answer the open text check-in, privately, or are kept as a private
    note on the day. Best effort, after the reply: a failure is logged without the
    words, and the learner already has care."""
    svc = context.services
    try:
        if keep:
            words, now = text.strip(), svc.clock()
            outcome = await svc.repo.record_text_answer(
                learner.id, words, now, private=True, message_id=message_id
            )
            if outcome.status in ("recorded", "added"):
                metrics.answer_recorded()
                return  # a private answer puts the learner in care itself
            if outcome.status != "noted":
                await svc.repo.keep_note(
                    learner.id, words, now, message_id=message_id, private=True
                )
        await svc.repo.note_care(learner.id, svc.clock())
    except Exception:  # noqa: BLE001 - the reply is out; nothing else may fail it
        log.exception("safety reply: care for learner %s was not stored", learner.id)


async def sos(update: Update, context: Context) -> None:
    """/sos: the help lines for the learner's country (from their zone), any time, even
    before /start; /sos BE, /sos Ireland or /sos Nederland shows another country's."""
    learner = await _learner(update, context)
    language = language_of(update, learner)
    table = helpline_table()
    others = _others()
    own = table.country_for(learner.timezone if learner else None)
    given = " ".join(command_args(context))[:40]
    chosen = _country_named(given) if given else None
    code = chosen.code if chosen else own
    country = table.country(code) if code else None
    shown = say(
        language,
        "sos",
        country=country.called[language] if country else "",
        helplines=table.lines(code, language),
        others=others,
    )
    if given and chosen is None:  # not a country we know: their own lines, and a word
        shown = say(language, "sos-unknown", given=given) + "\n\n" + shown
    await reply(update, shown)
