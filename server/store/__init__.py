"""Persistence: meetings, policy versions, bans, invites, files and the append-only audit log.

SQLAlchemy 2 (async) over SQLite (the default, one file) or PostgreSQL (by
URL); the schema is migrated with alembic when the store opens.

- ``records``: the frozen values the store takes and returns;
- ``store``: :class:`Store`, every operation one transaction; its operations,
  one mixin per kind of record, over ``transactions``: ``meetings`` (meetings,
  policy versions, bans, saved places), ``invites``, ``audit`` (the audit log),
  ``shared_files`` (shared files' metadata) and ``hosting`` (API keys, host
  accounts, sessions and set-up links);
- ``errors``: :class:`StoreError` and its two subclasses;
- ``database``: URLs, engines, SQLite's settings, readable connection errors;
- ``tables``: the schema as metadata; ``rows``: records to rows and back, and queries;
- ``migrating`` and ``migrations/``: the packaged alembic migrations.
"""

from .errors import RecordExistsError, RecordNotFoundError, StoreError
from .holders import FencedOutError
from .hosting import AccountRecord, ApiKeyRecord, SessionRecord, SetupLinkRecord
from .records import (
    AuditEntry,
    FileRecord,
    FileState,
    IdentityKind,
    InviteRecord,
    MeetingRecord,
    PlacesSave,
    PolicyVersion,
)
from .store import Store

__all__ = [
    "AccountRecord",
    "ApiKeyRecord",
    "AuditEntry",
    "FencedOutError",
    "FileRecord",
    "FileState",
    "IdentityKind",
    "InviteRecord",
    "MeetingRecord",
    "PlacesSave",
    "PolicyVersion",
    "RecordExistsError",
    "RecordNotFoundError",
    "SessionRecord",
    "SetupLinkRecord",
    "Store",
    "StoreError",
]
