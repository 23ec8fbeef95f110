"""Keys every node sharing the database holds alike: the token signing key.

With several nodes on one PostgreSQL (docs/operating.md, "Many machines"), a
host link or resume token signed by one node must verify on the others, so the
signing key lives in the database, made once by the first node (from its own
``secret.key`` if it has one, so that links already handed out keep working).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the server_keys table."""
    op.create_table(
        "server_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_server_keys"),
    )


def downgrade() -> None:
    """Drop the server_keys table."""
    op.drop_table("server_keys")
