"""learner.care_since, answer.voice_file_id and answer.voice_seconds

`care_since` marks when a learner first told Bridges of crisis or harm: from
then on no streak is shown and every answer is private (existing learners have
none). A learner may answer a check-in that asks for words with a voice or
video note: Bridges keeps Telegram's file id and the length (never the sound
itself: no download), and the answer's value reads "🎤 0:12".

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("care_since", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voice_file_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("voice_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("voice_seconds")
        batch_op.drop_column("voice_file_id")
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("care_since")
