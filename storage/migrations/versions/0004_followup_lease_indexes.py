"""indexes for the follow-ups' lease scans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:00:00

The evening check-in's and the snoozed lesson's lease reclaim filter on
`checkin_state` / `snooze_state` = 'sending' and an old `followup_claimed_at`;
without an index every claim batch scanned the whole delivery history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_delivery_checkin_state_followup_claimed_at",
        "delivery",
        ["checkin_state", "followup_claimed_at"],
    )
    op.create_index(
        "ix_delivery_snooze_state_followup_claimed_at",
        "delivery",
        ["snooze_state", "followup_claimed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_snooze_state_followup_claimed_at", table_name="delivery")
    op.drop_index("ix_delivery_checkin_state_followup_claimed_at", table_name="delivery")
