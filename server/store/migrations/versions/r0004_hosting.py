"""Who may create meetings: operator API keys, host accounts, sessions, set-up links.

Every secret is stored as a hash only: an API key's and a set-up link's as
SHA-256 (each carries 256 random bits), a password as argon2id, a session
cookie as SHA-256. A set-up link is single use (``used_at``) and expires.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create api_keys, host_accounts, host_sessions and setup_links."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_table(
        "host_accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_accounts"),
        sa.UniqueConstraint("username", name="uq_host_accounts_username"),
    )
    op.create_table(
        "host_sessions",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_host_sessions"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["host_accounts.id"], name="fk_host_sessions_account_id_host_accounts"
        ),
    )
    op.create_index("ix_host_sessions_account_id", "host_sessions", ["account_id"])
    op.create_table(
        "setup_links",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_setup_links"),
        sa.CheckConstraint(
            "purpose IN ('first_account', 'account')", name="ck_setup_links_purpose_known"
        ),
    )


def downgrade() -> None:
    """Drop the four tables: every key, account and session is gone (meetings stay)."""
    op.drop_table("setup_links")
    op.drop_index("ix_host_sessions_account_id", table_name="host_sessions")
    op.drop_table("host_sessions")
    op.drop_table("host_accounts")
    op.drop_table("api_keys")
