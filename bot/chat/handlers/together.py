"""/together: take the course with someone, and see each other's answers once both answered.

`/together` gives an invite (a t.me deep link and a code to type); the invited
person opens it (`/start pair-CODE`) or types `/together CODE`, and is asked, with
the inviter's first name, whether to link. `/together off` ends a link at once (or
cancels an open invite), and the other is told only that the link has ended, at
their own next lesson or evening. After an answer, `share` has both partners shown
each other's answer when both have answered that check-in, each in their own
evening (storage/pairs.py decides, once; storage/notices.py sends), and offers
"keep this from Sam". Every message says that answers stay private until both
answered and how to leave; nothing here tells one partner when the other was last
seen or read anything.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.chat import callbacks, keyboards
from bot.chat.handlers.common import (
    Context,
    clear_buttons,
    command_args,
    reply,
    require_learner,
    say,
)
from bot.ops import metrics
from storage.in_step import AlignChoice
from storage.pairs import CODE_LENGTH, InviteCheck, normalise
from storage.views import LearnerView

log = logging.getLogger(__name__)

# What `/start <payload>` carries for an invite: t.me/<bot>?start=pair-CODE.
DEEP_LINK_PREFIX = "pair-"


async def command(update: Update, context: Context) -> None:
    """/together (an invite, or who you are linked with), /together off, /together CODE."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if args and args[0].lower() in ("off", "uit", "stop"):
        await _off(update, context, learner)
    elif args:
        await offer(update, context, learner, " ".join(args))
    else:
        await _invite(update, context, learner)


async def _invite(update: Update, context: Context, learner: LearnerView) -> None:
    svc = context.services
    partner = await svc.repo.partner(learner.id)
    if partner is not None:
        await reply(
            update, say(learner.language, "together-linked-already", name=partner.first_name)
        )
        return
    code = await svc.repo.create_invite(learner.id, svc.clock())
    metrics.together("invite")
    link = f"https://t.me/{context.bot.username}?start={DEEP_LINK_PREFIX}{code}"
    await reply(update, say(learner.language, "together-invite", link=link, code=code))


async def _off(update: Update, context: Context, learner: LearnerView) -> None:
    """End the link at once (no confirmation from the other), or cancel an open invite."""
    svc = context.services
    now = svc.clock()
    partner = await svc.repo.unlink(learner.id, now)
    if partner is not None:  # they are told at their own next moment (storage/notices.py)
        metrics.together("unlink")
        await reply(update, say(learner.language, "together-off-done"))
        return
    if await svc.repo.revoke_invites(learner.id, now):
        await reply(update, say(learner.language, "together-invite-revoked"))
        return
    await reply(update, say(learner.language, "together-off-nothing"))


async def offer(update: Update, context: Context, learner: LearnerView, code: str) -> None:
    """An invite opened or typed: ask, with the inviter's name, whether to link."""
    checked = await _checked(update, context, learner, code)
    if checked is not None:
        code, name = checked
        keyboard = keyboards.together_offer(learner.language, name, code)
        await reply(update, say(learner.language, "together-offer", name=name), keyboard)


async def hold(update: Update, context: Context, learner: LearnerView, code: str) -> None:
    """An invite opened by someone still onboarding: say whose it is and keep it; they are
    asked whether to link when onboarding ends (`offer_held`), with their own settings."""
    checked = await _checked(update, context, learner, code)
    if checked is not None:
        code, name = checked
        await context.services.repo.keep_pending_invite(learner.id, code)
        await reply(update, say(learner.language, "together-held", name=name))


async def _checked(
    update: Update, context: Context, learner: LearnerView, code: str
) -> tuple[str, str] | None:
    """The code as stored and its inviter's first name when it can be accepted; else the
    line that says why not, and None."""
    svc = context.services
    code = normalise(code)[: CODE_LENGTH * 2]
    checked = await svc.repo.check_invite(learner.id, code, svc.clock())
    if await _refused(update, learner, checked):
        return None
    return code, checked.inviter.first_name if checked.inviter else ""


async def _refused(update: Update, learner: LearnerView, checked: InviteCheck) -> bool:
    """Say why an invite cannot be used (own, expired, used…); False when it can."""
    if checked.status == "ok":
        return False
    name = checked.inviter.first_name if checked.inviter else ""
    await reply(update, say(learner.language, f"together-no-{checked.status}", name=name))
    return True


async def offer_held(update: Update, context: Context, learner: LearnerView) -> None:
    """Onboarding ended: ask about the invite the learner opened at the start, if any."""
    code = await context.services.repo.take_pending_invite(learner.id)
    if code is not None:
        await offer(update, context, learner, code)


async def button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """ "Link with Sam" or "Not now" under an invite: the code is checked again, as typed."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    svc = context.services
    if data.action == callbacks.PAIR_NOT_NOW:
        await clear_buttons(update)
        await reply(update, say(learner.language, "together-not-now"))
        return
    checked = await svc.repo.link(learner.id, data.args[0], svc.clock())
    await clear_buttons(update)
    inviter = checked.inviter
    if await _refused(update, learner, checked) or inviter is None:
        return
    metrics.together("link")
    await reply(update, say(learner.language, "together-linked", name=inviter.first_name))
    await tell(
        context,
        inviter.id,
        say(inviter.language, "together-linked", name=learner.first_name),
    )
    days = await svc.repo.pair_days(learner.id, svc.delivery.outline)
    if days is not None and abs(days[0] - days[1]) > 1:  # a day apart steps by itself
        mine, theirs = (day - 1 for day in days)  # days done so far
        keyboard = keyboards.together_align(learner.language, max(days))
        text = say(
            learner.language, "together-align", name=inviter.first_name, mine=mine, theirs=theirs
        )
        await reply(update, text, keyboard)


async def catch_up(update: Update, context: Context, learner: LearnerView) -> None:
    """Back from a pause that outlasted the pair's wait: the partner went on, so offer to
    catch up (only the learner's own course moves) or go on from where they are."""
    svc = context.services
    days = await svc.repo.pair_days(learner.id, svc.delivery.outline)
    partner = await svc.repo.partner(learner.id)
    if days is None or partner is None or days[0] >= days[1] - 1:
        return
    mine, theirs = (day - 1 for day in days)
    keyboard = keyboards.together_align(learner.language, days[1], other="stay")
    text = say(
        learner.language, "together-catch-up", name=partner.first_name, mine=mine, theirs=theirs
    )
    await reply(update, text, keyboard)


async def align_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """ "Together from day 12", "Both from day 1" (asked at the link) or "Go on from where
    I am" (asked after a pause): the choice puts the pair in step (storage/in_step.py
    says who may choose what) and both are told the day they go on from; a stale tap
    changes nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    svc = context.services
    await clear_buttons(update)
    if data.args[0] == "stay":  # after a pause: each goes on from where they are
        await reply(update, say(learner.language, "together-stay"))
        return
    choice: AlignChoice = "ahead" if data.args[0] == "ahead" else "start"
    day = await svc.repo.align(learner.id, choice, svc.delivery.outline)
    partner = await svc.repo.partner(learner.id)
    if day is None or partner is None:
        await reply(update, say(learner.language, "together-align-gone"))
        return
    await reply(update, say(learner.language, "together-aligned", name=partner.first_name, day=day))
    await tell(
        context,
        partner.id,
        say(partner.language, "together-aligned", name=learner.first_name, day=day),
    )


async def share(
    context: Context, learner: LearnerView, lesson_id: str | None
) -> InlineKeyboardMarkup | None:
    """After the learner answered: when their partner answered this check-in too, each is
    to be shown the other's answer once, in their own evening (storage/notices.py sends
    it). While linked, the answer's reply carries "keep this from Sam": the keyboard."""
    if lesson_id is None:
        return None
    svc = context.services
    sharing = await svc.repo.reveal(learner.id, lesson_id, svc.clock())
    # (None when the answer spoke of crisis or harm, or either is in care: nothing is
    # shown, so there is nothing to keep either.)
    if sharing is None:
        return None
    return keyboards.together_keep(
        learner.language, sharing.partner.first_name, sharing.delivery_id
    )


async def keep_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """ "Keep this from Sam": the partner is shown only that it was answered; too late
    once they were shown it; a stale or forged button changes nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await clear_buttons(update)
    partner = await context.services.repo.partner(learner.id)
    if partner is None:  # the link ended since: there is nobody to keep it from
        await reply(update, say(learner.language, "together-keep-unlinked"))
        return
    status = await context.services.repo.withhold(learner.id, int(data.args[0]))
    text = f"together-keep-{status}"
    await reply(update, say(learner.language, text, name=partner.first_name))


async def tell(context: Context, learner_id: int, html: str) -> None:
    """A message to the partner; one who blocked the bot simply does not get it."""
    try:
        await context.bot.send_message(learner_id, html)
    except TelegramError as error:
        log.info("partner %s not told (%s)", learner_id, type(error).__name__)
