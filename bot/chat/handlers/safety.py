"""Care first: a message that speaks of crisis or abuse, an answer that says "someone is
hurting me", and /sos.

Every text a learner sends (and every caption) passes `screened` before any
other handler answers it, whether or not they have started, whatever step they
are on. A caught message is answered with care and the help lines for the
learner's country, chosen for what it speaks of (the emergency number first),
and with nothing else: no streak, no feedback line, no lesson, no hint. What
the learner wrote as a check-in answer is still kept (nothing typed is lost).
The words are never logged; metrics count only that a reply was given, by concern.
"""

from __future__ import annotations

from telegram import Update

from bot.chat.handlers.common import (
    Context,
    command_args,
    current_learner,
    language_of,
    reply,
    say,
)
from bot.ops import metrics
from lessons.helplines import Purpose, helpline_table
from lessons.screen import Concern
from storage.views import LearnerView

# What each concern's reply shows, in this order: the emergency number always first.
PURPOSES: dict[Concern, tuple[Purpose, ...]] = {
    Concern.CRISIS: (Purpose.EMERGENCY, Purpose.SUICIDE, Purpose.TALK),
    Concern.ABUSE: (Purpose.EMERGENCY, Purpose.ABUSE),
}


def care(language: str, timezone: str | None, concern: Concern) -> str:
    """The whole reply to a caught message: care, then the lines for this concern."""
    table = helpline_table()
    lines = table.lines(table.country_for(timezone), language, PURPOSES[concern])
    return say(language, f"safety-{concern.value}", helplines=lines)


def harm_lines(language: str, timezone: str | None) -> str:
    """The lines that follow an answer such as "someone is hurting me now"."""
    table = helpline_table()
    lines = table.lines(table.country_for(timezone), language, PURPOSES[Concern.ABUSE])
    return say(language, "safety-option", helplines=lines)


async def screened(
    update: Update,
    context: Context,
    learner: LearnerView | None,
    text: str | None,
    *,
    keep: bool = True,
) -> bool:
    """Answer with care if `text` speaks of crisis or abuse, keeping it as an answer where a
    text check-in is open (with `keep`); True when it did (the caller then says no more)."""
    concern = context.services.safety.screen(text)
    if concern is None:
        return False
    metrics.safety_reply(concern.value)
    if keep and learner is not None and text:
        svc = context.services
        outcome = await svc.repo.record_text_answer(learner.id, text.strip(), svc.clock())
        if outcome.status == "recorded":
            metrics.answer_recorded()
    language = language_of(update, learner)
    await reply(update, care(language, learner.timezone if learner else None, concern))
    return True


async def sos(update: Update, context: Context) -> None:
    """/sos: the help lines for the learner's country (from their zone), any time, even
    before /start; /sos BE (or UK, IE …) shows another country's."""
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    table = helpline_table()
    # How a person writes the country: /sos UK, not GB.
    others = ", ".join(f"/sos {(c.aliases or (c.code,))[0]}" for c in table.countries)
    args = command_args(context)
    if args:
        given = " ".join(args)[:40]
        country = table.country(given)
        if country is None:
            await reply(update, say(language, "sos-unknown", given=given, others=others))
            return
        code: str | None = country.code
    else:
        code = table.country_for(learner.timezone if learner else None)
    country = table.country(code) if code else None
    await reply(
        update,
        say(
            language,
            "sos",
            country=country.called[language] if country else "",
            helplines=table.lines(code, language),
            others=others,
        ),
    )
