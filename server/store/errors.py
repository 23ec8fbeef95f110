"""The store's errors: one base type whose message says what went wrong and what to do.

Driver exceptions (asyncpg, sqlite3, SQLAlchemy) never leave the store; they
are chained as ``__cause__`` for the log.
"""

from __future__ import annotations

__all__ = ["RecordExistsError", "RecordNotFoundError", "StoreError"]


class StoreError(Exception):
    """The database could not be opened or could not do what was asked."""


class RecordNotFoundError(StoreError, LookupError):
    """A change named a meeting or invite that is not stored."""


class RecordExistsError(StoreError):
    """A record with the same id (meeting id, invite jti) is already stored."""
