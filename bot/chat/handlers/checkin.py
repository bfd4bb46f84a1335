"""Check-in answers: a button (scale or choice), words typed for a button ("4", "not
yet"), or free text; counted once while open."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from telegram import Update
from telegram.error import TelegramError

from bot.chat import callbacks, keyboards
from bot.chat.handlers import together
from bot.chat.handlers.common import Context, clear_buttons, next_lesson_line, reply, say
from bot.chat.handlers.onboarding import typed_setting
from bot.chat.handlers.safety import harm_lines
from bot.chat.services import Services
from bot.ops import metrics
from lessons.render import RenderedLesson
from lessons.typed_answers import typed_answer
from scheduler.states import DueKind, Step
from scheduler.streak import Streaks
from storage.views import AnswerOutcome, LearnerView, NoteOutcome, Typed


def streak_line(language: str, streaks: Streaks) -> str:
    if streaks.current <= 0:
        return ""
    if streaks.current == 1:
        return say(language, "streak-one")
    return say(language, "streak", days=streaks.current)


async def answer_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """A tap on a check-in button: the answer echoed with its own feedback line.

    Old, answered or forged buttons get a kind word instead.
    """
    query = update.callback_query
    assert query is not None
    svc = context.services
    delivery_id, value = int(data.args[0]), data.args[1]
    outcome = await _record_tap(svc, learner, delivery_id, value)
    if outcome.status != "recorded":
        await query.answer(_refusal(learner.language, outcome))
        if outcome.status == "closed":
            await clear_buttons(update)
        return
    await query.answer()
    await clear_buttons(update)
    pressed = query.message.message_id if query.message is not None else None
    asked = outcome.asked_in if outcome.asked_in != pressed else None
    await _take_buttons_off(context, learner, asked)
    await _answered(update, context, learner, outcome, value)


async def _record_tap(
    svc: Services, learner: LearnerView, delivery_id: int, value: str
) -> AnswerOutcome:
    """Record a tap (or words that stand for one): once, while open, private when it says
    the learner is being harmed."""
    return await svc.repo.record_answer(
        learner.id,
        delivery_id,
        value,
        svc.clock(),
        accepts=svc.course.accepts,
        private=svc.course.leads_to_help,
    )


async def _answered(
    update: Update,
    context: Context,
    learner: LearnerView,
    outcome: AnswerOutcome,
    value: str,
    answers: dict[str, str] | None = None,
) -> None:
    """The reply to a recorded tap (or to words that stood for one): the answer, its
    feedback, the streak; or, for "someone is hurting me now", the help lines instead.
    `answers`: the branch answers when the caller read them already."""
    svc = context.services
    metrics.answer_recorded()
    if answers is None:
        answers = await _branch_answers(svc, learner, outcome.lesson_id)
    label = _label(svc, learner.language, outcome.lesson_id, value, answers)
    feedback = svc.course.feedback(learner.language, outcome.lesson_id or "", value, answers)
    if svc.course.leads_to_help(outcome.lesson_id or "", value):
        # "Someone is hurting me now": care and where to turn, never a streak.
        metrics.safety_reply("abuse")
        lines = harm_lines(learner.language, learner.timezone)
        await reply(
            update,
            say(learner.language, "answer-help", feedback=feedback, helplines=lines),
        )
        return
    await reply(
        update,
        say(learner.language, "your-answer", answer=label)
        + ("\n" + say(learner.language, "answer-feedback", feedback=feedback) if feedback else "")
        + "\n"
        + say(
            learner.language,
            "answer-recorded",
            streak=_streak(learner, outcome),
        )
        + _early_line(learner, outcome)
        + _finished_line(svc, learner, outcome),
        await together.share(context, learner, outcome.lesson_id),
    )
    await _welcome_back(update, context, learner, outcome.resumed)


async def _typed_for_a_tap(
    update: Update, context: Context, learner: LearnerView, text: str
) -> bool:
    """Words typed under buttons: recorded as the tap they stand for ("4", "not yet", "ja")
    with the tap's own reply, the buttons taken off; words that stand for none, or come
    after the tap, are kept as a note on the day and the choices shown again. False when
    no check-in with buttons is open (nothing kept yet)."""
    svc = context.services
    found = await svc.repo.button_checkin(learner.id, svc.clock())
    if found is None:
        return False
    lesson = svc.course.by_id(learner.language, found.lesson_id)
    if lesson is None:
        return False
    if found.answered:  # words after the tap: not a second answer, but kept
        note = await _keep_note(update, context, learner, text)
        await reply(update, say(learner.language, "hint-already-answered"))
        await _welcome_back(update, context, learner, note.resumed)
        return True
    answers = await _branch_answers(svc, learner, found.lesson_id)
    checkin = lesson.checkin_for(answers)
    value = typed_answer(checkin, text)
    if value is None:
        note = await _keep_note(update, context, learner, text)
        options = tuple((option.label, option.value) for option in checkin.options) or tuple(
            (v, v) for v in checkin.values()
        )
        shown = RenderedLesson(found.lesson_id, "", "", checkin.kind, options)
        again = await reply(
            update,
            say(
                learner.language,
                "hint-tap-or-type",
                question=checkin.question,
                low=checkin.low,
                high=checkin.high,
            ),
            keyboards.checkin(found.delivery_id, shown),
        )
        if again is not None:  # its buttons go too once the check-in is answered
            _choices_shown(context).append(again.message_id)
        await _welcome_back(update, context, learner, note.resumed)
        return True
    outcome = await svc.repo.record_answer(
        learner.id,
        found.delivery_id,
        value,
        svc.clock(),
        accepts=svc.course.accepts,
        private=svc.course.leads_to_help,
        typed=Typed(text, _message_id(update)),
    )
    if outcome.status == "recorded":
        await _take_buttons_off(context, learner, outcome.asked_in)
        await _answered(update, context, learner, outcome, value, answers)
    elif outcome.status == "already":
        await _keep_note(update, context, learner, text)
        await reply(update, say(learner.language, "hint-already-answered"))
    else:
        return False
    return True


def _choices_shown(context: Context) -> list[int]:
    """The messages that showed a check-in's choices again (this process, this chat): their
    buttons are taken off with the check-in's own once it is answered."""
    chat_data = context.chat_data
    if chat_data is None:
        return []
    shown: list[int] = chat_data.setdefault("choices_shown", [])
    return shown


async def _take_buttons_off(context: Context, learner: LearnerView, message_id: int | None) -> None:
    """The check-in is answered: the buttons of its message and of every message that
    showed its choices again go, as a tap takes off those it was pressed on."""
    shown = _choices_shown(context)
    for each in {*shown, *([message_id] if message_id is not None else [])}:
        with suppress(TelegramError):  # already off, or the message is gone: nothing to do
            await context.bot.edit_message_reply_markup(learner.id, each, reply_markup=None)
    shown.clear()


def _message_id(update: Update) -> int | None:
    """The learner's own message id, kept so that an edit of it can find its words."""
    message = update.effective_message
    return message.message_id if message is not None else None


async def _keep_note(
    update: Update, context: Context, learner: LearnerView, words: str
) -> NoteOutcome:
    """Keep words that answer nothing as a note for the learner's day."""
    svc = context.services
    return await svc.repo.keep_note(learner.id, words, svc.clock(), message_id=_message_id(update))


async def _branch_answers(
    svc: Services, learner: LearnerView, lesson_id: str | None
) -> dict[str, str]:
    """The learner's answer to the earlier lesson this one branches on, if it branches:
    a branch may ask its own check-in (its feedback and labels are the branch's)."""
    lesson = svc.course.by_id(learner.language, lesson_id or "")
    if lesson is None or lesson.branch is None:
        return {}
    answers, _private = await svc.repo.recalled_answers(learner.id, [lesson.branch.on])
    return answers


def _streak(learner: LearnerView, outcome: AnswerOutcome) -> str:
    """The streak line, except for a learner in care (they told Bridges of crisis or harm,
    or that someone is hurting them): their days are not a game to keep up."""
    if outcome.in_care:
        return ""
    return streak_line(learner.language, outcome.streaks)


def _early_line(learner: LearnerView, outcome: AnswerOutcome) -> str:
    """An answer before the evening check-in was asked: say it will not be asked again."""
    return "\n" + say(learner.language, "answer-early") if outcome.early else ""


def _finished_line(svc: Services, learner: LearnerView, outcome: AnswerOutcome) -> str:
    """After the last lesson's answer, say the course is complete and /restart exists,
    so the course does not end in silence."""
    last = svc.course.lesson(learner.language, svc.course.length)
    if outcome.lesson_id != last.id:
        return ""
    return "\n\n" + say(learner.language, "course-finished", name=learner.first_name)


async def _buttons_showing(svc: Services, learner: LearnerView) -> bool:
    """Whether the newest lesson's check-in asks for a tap (choice or scale) and has been asked.

    Free text cannot answer it, but the learner must hear that, not that no
    check-in is open. An evening check-in still to come, or a snoozed lesson's, has no
    buttons yet.
    """
    if learner.due_kind != DueKind.LESSON:
        return False
    found = await svc.repo.progress(learner.id)
    if found is None or not found.delivered:
        return False
    lesson = svc.course.by_id(learner.language, found.delivered[-1])
    return lesson is not None and lesson.checkin.kind in ("choice", "scale")


async def _welcome_back(
    update: Update, context: Context, learner: LearnerView, resumed: bool
) -> None:
    """An answer (or a note) ended a pause that silence started: say the lessons are back."""
    if not resumed:
        return
    after = await context.services.repo.get_learner(learner.id)
    line = "" if after is None else next_lesson_line(after, context)
    await reply(update, say(learner.language, "back-by-answer", next=line))


def _label(
    svc: Services, language: str, lesson_id: str | None, value: str, answers: dict[str, str]
) -> str:
    """The button's own words for the answer, to echo back; the value itself for a scale."""
    lesson = svc.course.by_id(language, lesson_id or "")
    if lesson is not None:
        for option in lesson.checkin_for(answers).options:
            if option.value == value:
                return option.label
    return value


def _refusal(language: str, outcome: AnswerOutcome) -> str:
    return say(
        language,
        {"already": "answer-already", "closed": "answer-closed"}.get(
            outcome.status, "answer-unknown"
        ),
    )


async def voice(
    update: Update, context: Context, learner: LearnerView, file_id: str, seconds: int
) -> None:
    """A voice or video note: kept as the answer to a check-in that asks for words, else
    as a note on the day."""
    svc = context.services
    outcome = await svc.repo.record_voice_answer(
        learner.id, file_id, seconds, svc.clock(), message_id=_message_id(update)
    )
    if outcome.status == "recorded":
        metrics.answer_recorded()
        await reply(
            update,
            say(learner.language, "answer-voice", streak=_streak(learner, outcome))
            + _early_line(learner, outcome)
            + _finished_line(svc, learner, outcome),
            await together.share(context, learner, outcome.lesson_id),
        )
        await _welcome_back(update, context, learner, outcome.resumed)
    elif outcome.status == "added":
        await reply(update, say(learner.language, "answer-added"))
    elif outcome.status == "already":  # kept as a note: the tap answered today already
        await reply(update, say(learner.language, "hint-already-answered"))
    elif outcome.lesson_id is not None:  # kept as a note: the open check-in takes a tap
        await reply(update, say(learner.language, "voice-not-now"))
    else:
        await reply(update, _noted_line(learner, svc.clock()))


def _noted_line(learner: LearnerView, now: datetime) -> str:
    """Words (or a voice note) kept as a note, no check-in open: said, with /resume for a
    learner on pause."""
    return say(learner.language, "note-kept", paused=learner.is_paused(now))


async def free_text(
    update: Update, context: Context, learner: LearnerView, text: str | None = None
) -> None:
    """Text that is not a command (or a photo's caption, `text`): a typed setting, a
    check-in answer, words for a tap, or a note on the day; nothing typed is lost."""
    message = update.effective_message
    if text is None:
        if message is None or message.text is None:
            return
        text = message.text
    text = text.strip()
    if learner.onboarding_step != Step.DONE and await typed_setting(update, context, learner, text):
        return
    if not text:
        await reply(update, say(learner.language, "hint-no-checkin"))
        return
    svc = context.services
    outcome = await svc.repo.record_text_answer(
        learner.id, text, svc.clock(), message_id=_message_id(update)
    )
    if outcome.status == "recorded":
        metrics.answer_recorded()
        await reply(
            update,
            say(
                learner.language,
                "answer-recorded-text",
                streak=_streak(learner, outcome),
            )
            + _early_line(learner, outcome)
            + _finished_line(svc, learner, outcome),
            await together.share(context, learner, outcome.lesson_id),
        )
        await _welcome_back(update, context, learner, outcome.resumed)
    elif outcome.status == "added":  # a second message the same day: kept with the first
        await reply(update, say(learner.language, "answer-added"))
    elif outcome.status == "noted":  # the day's answer is full: kept beside it
        await reply(update, say(learner.language, "answer-noted"))
    elif await _typed_for_a_tap(update, context, learner, text):
        return
    else:
        note = await _keep_note(update, context, learner, text)
        if note.resumed:  # back after silence paused them: that is the news
            await _welcome_back(update, context, learner, resumed=True)
        elif await _buttons_showing(svc, learner):
            await reply(update, say(learner.language, "hint-tap-buttons"))
        else:
            await reply(update, _noted_line(learner, svc.clock()))
