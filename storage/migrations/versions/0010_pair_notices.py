"""pair_notice, answer.withheld, learner.course_from, reveal rounds: in step

A reveal (the other's answer) waits for the reader's evening and "the link has
ended" for their next lesson or evening, so neither says when the other acted;
both are held, sent and fenced like a lesson. `answer.withheld` is an answer its
learner kept from their partner ("keep this from Sam"): the partner is shown only
that it was answered. `learner.course_from` is the day a round starts at: a
learner who joins a partner further along skips the days before it. Existing
answers are not withheld, every learner starts at day 1, reveals already shown
stay in `reveal` (round 1 of each, now part of its key, so a lesson taken again
after /restart reveals again) and become sent notices to both readers, and nothing
waits.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pair_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("reader_id", sa.BigInteger(), nullable=False),
        sa.Column("writer_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("shown", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_pair_notice_pair_id_pair"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["learner.id"],
            name=op.f("fk_pair_notice_reader_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_notice")),
        sa.UniqueConstraint(
            "reader_id",
            "pair_id",
            "kind",
            "lesson_id",
            "round",
            name=op.f("uq_pair_notice_reader_id_pair_id_kind_lesson_id_round"),
        ),
    )
    op.create_index(op.f("ix_pair_notice_pair_id"), "pair_notice", ["pair_id"], unique=False)
    op.create_index("ix_pair_notice_state_due_at", "pair_notice", ["state", "due_at"], unique=False)
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withheld", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("course_from", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    # Reveals made before this revision were shown to both at once: each becomes a sent
    # notice to each reader (their words were not kept), so the shared streak and the
    # export, which count what reached a reader, still see them.
    for reader, writer in (("inviter_id", "partner_id"), ("partner_id", "inviter_id")):
        # The column names are the two fixed ones above: nothing comes from outside.
        statement = (
            "INSERT INTO pair_notice (pair_id, reader_id, writer_id, kind, lesson_id, round, "  # noqa: S608
            "due_at, state, attempts, claimed_at, sent_at) "
            f"SELECT reveal.pair_id, pair.{reader}, pair.{writer}, 'reveal', reveal.lesson_id, "
            "learner.round, reveal.revealed_at, 'sent', 1, reveal.revealed_at, "
            "reveal.revealed_at FROM reveal JOIN pair ON pair.id = reveal.pair_id "
            f"JOIN learner ON learner.id = pair.{reader}"
        )
        op.execute(statement)
    # A lesson taken again after /restart reveals again: each one's round is in the key.
    with op.batch_alter_table("reveal", schema=None) as batch_op:
        for column in ("inviter_round", "partner_round"):
            batch_op.add_column(
                sa.Column(column, sa.Integer(), nullable=False, server_default=sa.text("1"))
            )
        batch_op.drop_constraint("uq_reveal_pair_id_lesson_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reveal_pair_id_lesson_id_inviter_round_partner_round",
            ["pair_id", "lesson_id", "inviter_round", "partner_round"],
        )


def downgrade() -> None:
    with op.batch_alter_table("reveal", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_reveal_pair_id_lesson_id_inviter_round_partner_round", type_="unique"
        )
        batch_op.create_unique_constraint("uq_reveal_pair_id_lesson_id", ["pair_id", "lesson_id"])
        batch_op.drop_column("partner_round")
        batch_op.drop_column("inviter_round")
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("course_from")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("withheld")
    op.drop_index("ix_pair_notice_state_due_at", table_name="pair_notice")
    op.drop_index(op.f("ix_pair_notice_pair_id"), table_name="pair_notice")
    op.drop_table("pair_notice")
