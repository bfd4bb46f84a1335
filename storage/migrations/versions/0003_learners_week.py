"""The learner's week: evening check-in, snooze, auto-pause

learner.due_kind says what the one next_due_at is for (lesson, evening
check-in, snoozed lesson); learner.reflection_time is the evening check-in's
local time (NULL: with the lesson, which is what learners enrolled before this
revision keep); learner.auto_paused_at is when silence last paused the learner
(any answer ends that pause).
delivery.checkin_* and delivery.snooze* reserve and fence the check-in sent
apart and the snoozed resend, as delivery.state and attempts do for the lesson.
learner.round and delivery.round count times through the course (/restart), and
the unique key on deliveries becomes (learner, round, lesson).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:10:00
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types
from scheduler.due import local_date, occurrence_on, parse_daily_time

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("round", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "due_kind",
                sa.String(length=16),
                server_default=sa.text("'lesson'"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("reflection_time", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("auto_paused_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("round", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.drop_constraint("uq_delivery_learner_id_lesson_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_delivery_learner_id_round_lesson_id", ["learner_id", "round", "lesson_id"]
        )
        batch_op.add_column(sa.Column("checkin_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("checkin_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "followup_claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("snoozed_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("snooze_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("snooze_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


class DowngradeRefused(RuntimeError):
    """Going below 0003 would lose data the older schema cannot hold."""


def downgrade() -> None:
    # Before 0003 a learner has one delivery per lesson. After a /restart the
    # second round repeats lessons: refuse rather than delete those rows.
    bind = op.get_bind()
    repeated = bind.execute(sa.text("SELECT count(*) FROM delivery WHERE round > 1")).scalar()
    restarted = bind.execute(sa.text("SELECT count(*) FROM learner WHERE round > 1")).scalar()
    if repeated or restarted:
        raise DowngradeRefused(
            f"cannot downgrade below 0003: {restarted or 0} learner(s) restarted the course "
            f"and {repeated or 0} delivery row(s) belong to a second round, which the older "
            "schema's unique (learner, lesson) cannot hold; nothing was changed"
        )
    _due_lessons_only(bind)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("snooze_attempts")
        batch_op.drop_column("snooze_state")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("followup_claimed_at")
        batch_op.drop_column("checkin_attempts")
        batch_op.drop_column("checkin_state")
        batch_op.drop_constraint("uq_delivery_learner_id_round_lesson_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_delivery_learner_id_lesson_id", ["learner_id", "lesson_id"]
        )
        batch_op.drop_column("round")
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("round")
        batch_op.drop_column("auto_paused_at")
        batch_op.drop_column("reflection_time")
        batch_op.drop_column("due_kind")


def _due_lessons_only(bind: sa.engine.Connection) -> None:
    """An evening check-in or snoozed resend due at `next_due_at` would read as a lesson
    time to the older code (a second lesson that evening): move each such learner to
    their lesson time on the next local day, the follow-up's own lesson being delivered.
    (NULL would strand them: nothing in the older code reschedules a NULL.)
    """
    learner = sa.table(
        "learner",
        sa.column("id", sa.BigInteger()),
        sa.column("timezone", sa.String()),
        sa.column("daily_time", sa.String()),
        sa.column("due_kind", sa.String()),
        sa.column("next_due_at", storage.types.UTCDateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(
            learner.c.id, learner.c.timezone, learner.c.daily_time, learner.c.next_due_at
        ).where(learner.c.due_kind != "lesson", learner.c.next_due_at.is_not(None))
    ).all()
    for learner_id, zone, daily, due in rows:
        moved = None
        if zone is not None and daily is not None:
            day = local_date(due, zone) + timedelta(days=1)
            moved = occurrence_on(day, parse_daily_time(daily), zone)
        bind.execute(sa.update(learner).where(learner.c.id == learner_id).values(next_due_at=moved))
