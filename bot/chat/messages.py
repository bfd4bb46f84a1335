"""What one claim looks like in the chat: its text and its buttons.

A lesson whose check-in comes in the evening carries "later" buttons; a
lesson sent with its check-in (``/reflect off``, or a check-in time already
past) carries the check-in's buttons, as before; the evening check-in is its
own message, with the day's notes shown back above the question (words that
answered nothing yet: the question then asks only what is still open); the
auto-pause note has no buttons. A freeze used on the missed
day before is said first, kindly.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup

from bot.chat import keyboards
from bot.chat.texts import texts
from lessons.render import RenderedLesson
from scheduler.claims import Claim
from scheduler.states import ClaimKind


def compose(claim: Claim, rendered: RenderedLesson) -> tuple[str, InlineKeyboardMarkup | None]:
    """The HTML and the keyboard for one claim."""

    def say(language: str, text_id: str, **values: object) -> str:
        # Plain str: adding a Markup to a str would escape the lesson's own HTML.
        return str(texts().get(language, text_id, **values))

    if claim.kind == ClaimKind.PAUSE_NOTE:
        return say(claim.language, "auto-paused", name=claim.first_name), None
    if claim.kind == ClaimKind.CHECKIN:
        html = say(claim.language, "evening-checkin") + "\n\n"
        if claim.notes:  # what they wrote today that answered nothing yet, shown back
            shown = "\n".join(f"<i>“{escape(note)}”</i>" for note in claim.notes)
            html += f"{say(claim.language, 'evening-notes')}\n{shown}\n\n"
        return html + rendered.checkin_html, keyboards.checkin(claim.delivery_id, rendered)
    if claim.checkin_apart:
        html = rendered.lesson_html
        # At most one snooze a day: a snoozed lesson coming again offers no second one.
        markup = (
            None
            if claim.kind == ClaimKind.SNOOZED
            else keyboards.later(claim.delivery_id, claim.language)
        )
        if claim.kind != ClaimKind.SNOOZED:
            html += "\n\n" + say(claim.language, "checkin-tonight")
    else:
        html = rendered.message_html
        markup = keyboards.checkin(claim.delivery_id, rendered)
    if claim.freeze_used:
        html = say(claim.language, "freeze-used", days=claim.streak) + "\n\n" + html
    return html, markup
