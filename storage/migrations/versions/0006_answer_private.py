"""answer.private: words that spoke of crisis or abuse are never shown back

A check-in answer that the safety screen caught ("he hit me again"), or the
day-20 choice "Someone is hurting me now", is kept and exported like any other,
but a later lesson that recalls it must not put it on the lock screen. Every
existing answer stays shown (false).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("private")
