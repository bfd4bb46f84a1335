"""kept_message, message_edit, answer.via and answer.early

Nothing a learner types is thrown away: each message Bridges keeps is a row of
`kept_message`, as a part of the day's answer or as a note on the day (words
under a choice that matched no option, words after the check-in was answered, a
voice note where a tap was asked). Its Telegram message id lets an edit update
the words; the text before an edit is kept in `message_edit`. `answer.via` says
how an answer came (tap, typed, text, voice) and `answer.early` whether it came
before its evening check-in was asked; existing answers have no `via` (counted
apart by `bridges stats`) and were not early.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("kept_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("voice_file_id", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
            name=op.f("fk_kept_message_delivery_id_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_kept_message_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_message")),
    )
    op.create_index(
        "ix_kept_message_learner_id_message_id", "kept_message", ["learner_id", "message_id"]
    )
    op.create_index(
        op.f("ix_kept_message_delivery_id"), "kept_message", ["delivery_id"], unique=False
    )
    op.create_table(
        "message_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_message_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("replaced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kept_message_id"],
            ["kept_message.id"],
            name=op.f("fk_message_edit_kept_message_id_kept_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_edit")),
    )
    op.create_index(
        op.f("ix_message_edit_kept_message_id"), "message_edit", ["kept_message_id"], unique=False
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("early", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("early")
        batch_op.drop_column("via")
    op.drop_index(op.f("ix_message_edit_kept_message_id"), table_name="message_edit")
    op.drop_table("message_edit")
    op.drop_index(op.f("ix_kept_message_delivery_id"), table_name="kept_message")
    op.drop_index("ix_kept_message_learner_id_message_id", table_name="kept_message")
    op.drop_table("kept_message")
