"""Each audit entry keeps its decision's parameters, so the log reads in any language.

``params`` holds the parameters of the decision's sentence as JSON (``{"name":
"Ada Lovelace", "seconds": 600}``); the server writes the sentence from the reason
and these in the reader's language when the log is read. Rows stored before have
none (NULL) and keep their English ``message``.

Both directions alter the table in place (``ADD COLUMN``, and ``DROP COLUMN``,
which SQLite has from 3.35), never by copying it: a copied ``audit_entries``
would lose its append-only triggers. Neither fires them: no row is updated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add audit_entries.params (NULL in the rows already there)."""
    op.add_column("audit_entries", sa.Column("params", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop audit_entries.params: the log reads in English again, from ``message``."""
    op.drop_column("audit_entries", "params")
