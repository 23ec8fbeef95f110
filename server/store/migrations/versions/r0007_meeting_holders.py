"""Which holder of the cluster's placement may write each meeting's places.

With several nodes (docs/operating.md, "Many machines"), a node that stalls past
its lease may wake up still believing it holds a meeting another node has taken
over since. Each takeover raises the meeting's claim generation in Redis; the
node that loads the meeting records it here, and a node writes the meeting's
places only while no larger generation is recorded (a fencing token:
https://martin.kleppmann.com/2016/02/08/how-to-do-distributed-locking.html).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the meeting_holders table."""
    op.create_table(
        "meeting_holders",
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_meeting_holders"),
    )


def downgrade() -> None:
    """Drop the meeting_holders table."""
    op.drop_table("meeting_holders")
