"""Where each person of a running meeting stands, so that a restart resets no one.

One row per live meeting: its participants' places (waiting or admitted, role,
mute, hand, grants), its running timers and each person's current resume token
id, as JSON, written by the Room after its decisions. A restarted server loads
it, so a host mute, a grant or a place in the waiting room survives.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the room_states table."""
    op.create_table(
        "room_states",
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.Double(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_room_states"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_room_states_meeting_id_meetings"
        ),
    )


def downgrade() -> None:
    """Drop the room_states table (live meetings then restart with nobody in them)."""
    op.drop_table("room_states")
