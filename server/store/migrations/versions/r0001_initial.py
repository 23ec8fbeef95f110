"""The first schema: meetings, policy versions, identities, invites, the audit log.

The audit log is append-only in the database itself: triggers refuse UPDATE
and DELETE of its rows (and TRUNCATE on PostgreSQL), whoever connects.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY_MESSAGE = "audit_entries is append-only"

_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER audit_entries_no_{operation.lower()}
    BEFORE {operation} ON audit_entries
    BEGIN
        SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
]

_POSTGRESQL_TRIGGERS = [
    f"""
    CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_entries_no_change
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change()
    """,
    """
    CREATE TRIGGER audit_entries_no_truncate
    BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change()
    """,
]


def upgrade() -> None:
    """Create the tables, their indexes and the audit log's triggers."""
    op.create_table(
        "meetings",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("policy_revision", sa.Integer(), nullable=False),
        sa.Column("host_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
    )
    op.create_table(
        "policy_versions",
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "revision", name="pk_policy_versions"),
        sa.CheckConstraint("revision >= 1", name="ck_policy_versions_revision_positive"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_policy_versions_meeting_id_meetings"
        ),
    )
    op.create_table(
        "meeting_identities",
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("added_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "kind", "key", name="pk_meeting_identities"),
        sa.CheckConstraint("kind IN ('ban', 'must_wait')", name="ck_meeting_identities_kind_known"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_meeting_identities_meeting_id_meetings"
        ),
    )
    op.create_table(
        "invites",
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_invites"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_invites_meeting_id_meetings"
        ),
    )
    op.create_index("ix_invites_meeting_id", "invites", ["meeting_id"])
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("meeting_id", sa.Text(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("decision_id", sa.Text(), nullable=False),
        sa.Column("policy_revision", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("participant", sa.Text(), nullable=True),
        sa.Column("effects", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_audit_entries_meeting_id_meetings"
        ),
    )
    for columns in (
        ["meeting_id", "id"],
        ["meeting_id", "participant"],
        ["meeting_id", "actor"],
        ["meeting_id", "reason"],
    ):
        op.create_index(f"ix_audit_entries_{'_'.join(columns)}", "audit_entries", columns)
    triggers = {"postgresql": _POSTGRESQL_TRIGGERS, "sqlite": _SQLITE_TRIGGERS}
    for statement in triggers[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything the upgrade created (the triggers go with their table)."""
    op.drop_table("audit_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_entries_refuse_change()")
    op.drop_index("ix_invites_meeting_id", table_name="invites")
    op.drop_table("invites")
    op.drop_table("meeting_identities")
    op.drop_table("policy_versions")
    op.drop_table("meetings")
