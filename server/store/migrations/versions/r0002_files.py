"""Uploaded files' metadata: who shared what, under which server-generated id.

The bytes live in the files directory, named by ``id``; a row is ``pending``
while the engine decides the offer and ``shared`` once it allowed it, so a
file is never served before its decision, and metadata survives a restart.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the files table and its index by meeting."""
    op.create_table(
        "files",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("participant", sa.Text(), nullable=False),
        sa.Column("sender_name", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.CheckConstraint("state IN ('pending', 'shared')", name="ck_files_state_known"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_files_meeting_id_meetings"
        ),
    )
    op.create_index("ix_files_meeting_id", "files", ["meeting_id"])


def downgrade() -> None:
    """Drop the files table (the files directory is the operator's to clear)."""
    op.drop_index("ix_files_meeting_id", table_name="files")
    op.drop_table("files")
