"""invite, pair, reveal and learner.invite_misses: taking the course together

A learner invites someone with a single-use code (only its hash is kept); the
invited person links, and the two form a pair until either ends it. A reveal
row marks a check-in both answered, shown to each once. `invite_misses` counts
wrong codes typed in the last hour, so codes cannot be guessed;
`pending_invite` holds an invite opened during onboarding until it ends. Existing
learners have no pair, no misses and nothing pending.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = storage.types.UTCDateTime(timezone=True)


def _learner_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["learner.id"], name=op.f(f"fk_{table}_{column}_learner"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inviter_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("used_at", UTC_TIME, nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        _learner_fk("invite", "inviter_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invite_code_hash")),
    )
    op.create_index(op.f("ix_invite_inviter_id"), "invite", ["inviter_id"], unique=False)
    op.create_table(
        "pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inviter_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        _learner_fk("pair", "inviter_id"),
        _learner_fk("pair", "partner_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair")),
    )
    op.create_index(op.f("ix_pair_inviter_id"), "pair", ["inviter_id"], unique=False)
    op.create_index(op.f("ix_pair_partner_id"), "pair", ["partner_id"], unique=False)
    op.create_table(
        "reveal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=False),
        sa.Column("revealed_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_reveal_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reveal")),
        sa.UniqueConstraint("pair_id", "lesson_id", name=op.f("uq_reveal_pair_id_lesson_id")),
    )
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invite_misses", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("invite_misses_since", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("pending_invite", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("pending_invite")
        batch_op.drop_column("invite_misses_since")
        batch_op.drop_column("invite_misses")
    op.drop_table("reveal")
    op.drop_index(op.f("ix_pair_partner_id"), table_name="pair")
    op.drop_index(op.f("ix_pair_inviter_id"), table_name="pair")
    op.drop_table("pair")
    op.drop_index(op.f("ix_invite_inviter_id"), table_name="invite")
    op.drop_table("invite")
