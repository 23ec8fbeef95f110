"""The schema as SQLAlchemy Core metadata: the shape the migrations must produce.

The migrations in ``migrations/versions/`` are frozen snapshots and do not
import this module; ``tests/store/test_migrations.py`` checks that running
them gives exactly these tables (alembic's ``compare_metadata``), on SQLite
and on PostgreSQL.

Choices that keep one schema for both backends:

- times are unix seconds in double-precision floats;
- JSON (policy documents, audit events and effects) is stored as text, exactly
  as given, so a policy's SHA-256 is the hash of the stored bytes;
- the audit id is a 64-bit integer on PostgreSQL and SQLite's ``INTEGER
  PRIMARY KEY`` (the rowid) on SQLite; rows are never deleted, so ids only grow;
- constraints and indexes are named by convention, so that later migrations
  can address them (SQLite's batch mode needs names).

The append-only triggers on ``audit_entries`` live in the migrations only:
metadata cannot describe them.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    false,
)

__all__ = [
    "AUDIT_ID_TYPE",
    "api_keys",
    "audit_entries",
    "files",
    "host_accounts",
    "host_sessions",
    "invites",
    "meeting_holders",
    "meeting_identities",
    "meetings",
    "metadata",
    "policy_versions",
    "room_states",
    "server_keys",
    "setup_links",
]

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-assigns ids to a column declared exactly INTEGER PRIMARY KEY.
AUDIT_ID_TYPE: Final = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("ended_at", Double, nullable=True),
    Column("locked", Boolean, nullable=False, server_default=false()),
    Column("password_hash", Text, nullable=True),
    # The revision in force; its document is the policy_versions row of that revision.
    Column("policy_revision", Integer, nullable=False),
    Column("host_key", Text, nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("meeting_id", Text, ForeignKey("meetings.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("created_by", Text, nullable=False),
    PrimaryKeyConstraint("meeting_id", "revision"),
    CheckConstraint("revision >= 1", name="revision_positive"),
)

meeting_identities = Table(
    "meeting_identities",
    metadata,
    Column("meeting_id", Text, ForeignKey("meetings.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("added_at", Double, nullable=False),
    PrimaryKeyConstraint("meeting_id", "kind", "key"),
    CheckConstraint("kind IN ('ban', 'must_wait')", name="kind_known"),
)

invites = Table(
    "invites",
    metadata,
    Column("jti", Text, primary_key=True),
    Column("meeting_id", Text, ForeignKey("meetings.id"), nullable=False),
    Column("role", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=false()),
    Index(None, "meeting_id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", AUDIT_ID_TYPE, primary_key=True, autoincrement=True),
    Column("meeting_id", Text, ForeignKey("meetings.id"), nullable=False),
    Column("at", Double, nullable=False),
    Column("decision_id", Text, nullable=False),
    Column("policy_revision", Integer, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("actor", Text, nullable=True),
    Column("participant", Text, nullable=True),
    Column("effects", Text, nullable=False),
    # The parameters of the decision's sentence, as JSON (migration 0005), so that the
    # log is read in the reader's language; NULL in rows stored before, which keep
    # only ``message``, their English sentence.
    Column("params", Text, nullable=True),
    # Every query names one meeting, so each filter's index leads with it.
    Index(None, "meeting_id", "id"),
    Index(None, "meeting_id", "participant"),
    Index(None, "meeting_id", "actor"),
    Index(None, "meeting_id", "reason"),
)

# Uploaded files' metadata (migration 0002); the bytes are in the files
# directory, named by ``id`` (server/files/storage.py).
files = Table(
    "files",
    metadata,
    Column("id", Text, primary_key=True),
    Column("meeting_id", Text, ForeignKey("meetings.id"), nullable=False),
    Column("participant", Text, nullable=False),
    Column("sender_name", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("state", Text, nullable=False),
    CheckConstraint("state IN ('pending', 'shared')", name="state_known"),
    Index(None, "meeting_id"),
)


# Where each person of a live meeting stands (migration 0003): JSON written by the
# Room after its decisions, read when the meeting loads after a restart.
room_states = Table(
    "room_states",
    metadata,
    Column("meeting_id", Text, ForeignKey("meetings.id"), primary_key=True),
    Column("saved_at", Double, nullable=False),
    Column("document", Text, nullable=False),
)


# Who may create meetings (migration 0004, server/hosting/): operator API keys,
# host accounts, their sign-in sessions and one-time set-up links. Secrets are
# stored only as hashes: a key's and a link's as SHA-256 (they carry 256 bits of
# randomness), a password as argon2id, a session's cookie as SHA-256.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("key_hash", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("revoked_at", Double, nullable=True),
)

host_accounts = Table(
    "host_accounts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("username", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    UniqueConstraint("username"),
)

host_sessions = Table(
    "host_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("account_id", Text, ForeignKey("host_accounts.id"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Index(None, "account_id"),
)

setup_links = Table(
    "setup_links",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("purpose", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("used_at", Double, nullable=True),
    CheckConstraint("purpose IN ('first_account', 'account')", name="purpose_known"),
)


# Keys every node sharing this database must hold alike (migration 0006): the key
# that signs tokens, so a link made on one node opens on every other.
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", Double, nullable=False),
)


# The claim generation of the node that last loaded each meeting (migration 0007):
# a node writes a meeting's places only while no newer holder has taken it over.
meeting_holders = Table(
    "meeting_holders",
    metadata,
    Column("meeting_id", Text, primary_key=True),
    Column("generation", BigInteger, nullable=False),
)
