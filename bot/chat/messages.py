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

from markupsafe import Markup
from telegram import InlineKeyboardMarkup

from bot.chat import keyboards
from bot.chat.texts import texts
from lessons.render import RenderedLesson
from scheduler.claims import Claim, PairNote
from scheduler.states import ClaimKind, NoticeKind


def compose(claim: Claim, rendered: RenderedLesson) -> tuple[str, InlineKeyboardMarkup | None]:
    """The HTML and the keyboard for one claim."""

    def say(language: str, text_id: str, **values: object) -> str:
        # Plain str: adding a Markup to a str would escape the lesson's own HTML.
        return str(texts().get(language, text_id, **values))

    if claim.kind == ClaimKind.PAUSE_NOTE:
        return say(claim.language, "auto-paused", name=claim.first_name), None
    if claim.kind == ClaimKind.PAIR_NOTE and claim.pair_note is not None:
        return pair_note(claim.language, claim.pair_note, rendered), None
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


# The most of a partner's written answer shown (the whole stays in their own export).
SHOWN_ANSWER_LENGTH = 700


def pair_note(language: str, note: PairNote, rendered: RenderedLesson) -> str:
    """A pair notice in the reader's language: that the link ended (nothing more), or the
    partner's answer under the check-in's question: a tap by its label, a scale's value
    out of 5, the words (cut), or only that they answered (a voice note, or kept)."""

    def say(text_id: str, **values: object) -> str:
        return str(texts().get(language, text_id, **values))

    if note.kind == NoticeKind.WAITING:
        return say("together-waiting", name=note.partner_name)
    if note.kind == NoticeKind.ENDED:
        return say("together-ended")
    question = Markup(rendered.lesson_html)  # noqa: S704 - escaped by the renderer
    name = note.partner_name
    if note.withheld:
        return say("together-revealed-withheld", name=name, question=question)
    if note.voice:
        return say("together-revealed-voice", name=name, question=question)
    shown = note.value
    if rendered.checkin_kind == "scale":
        shown = f"{note.value}/5"
    for label, value in rendered.options:
        if value == note.value:
            shown = label
    if len(shown) > SHOWN_ANSWER_LENGTH:
        shown = shown[:SHOWN_ANSWER_LENGTH].rsplit(" ", 1)[0] + "…"
    return say("together-revealed", name=name, answer=shown, question=question)
