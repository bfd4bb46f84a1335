"""learner.reflection_time is called checkin_time, the one name for the check-in's time

The evening check-in had three names in the code (check-in, reflection,
evening); its time is now `checkin_time` everywhere. Only the column's name
changes: every learner keeps their time (or NULL: with the lesson).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.alter_column("reflection_time", new_column_name="checkin_time")


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.alter_column("checkin_time", new_column_name="reflection_time")
