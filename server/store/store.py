"""The store: meetings, their policy versions, identities, invites and the audit log.

One :class:`Store` per server process, opened with :meth:`Store.open`, which
migrates the database to the packaged head revision first. Every method is
one transaction. Records go in and come out as the frozen dataclasses of
``records.py``; no row or session escapes. This module opens, closes and
runs the transactions; the operations live in one mixin per kind of record
(``meetings.py``, ``invites.py``, ``audit.py``, ``shared_files.py``,
``hosting.py``).

Writes on SQLite take turns through an in-process lock: SQLite has one writer
at a time anyway, and a transaction that reads before it writes would
otherwise fail with "database is locked" instead of waiting its turn. Readers
run beside the writer (WAL). PostgreSQL needs no lock: a policy replacement
increments the meeting's revision with one UPDATE, which holds the row until
the version row is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .audit import AuditLog
from .database import create_engine, describe, parse_url, prepare_sqlite_file, shown
from .errors import StoreError
from .holders import MeetingHolders
from .hosting import HostingRecords
from .invites import InviteRecords
from .meetings import MeetingRecords
from .migrating import upgrade_to_head
from .server_keys import ServerKeys
from .shared_files import SharedFileRecords

__all__ = ["Store"]

# What a failing database raises inside a transaction: SQLAlchemy's wrapped
# driver errors, and socket errors and timeouts.
_DATABASE_FAILURES: Final = (SQLAlchemyError, OSError, TimeoutError)


class Store(
    MeetingRecords,
    InviteRecords,
    AuditLog,
    SharedFileRecords,
    HostingRecords,
    ServerKeys,
    MeetingHolders,
):
    """Persistence for meetings, policies, bans, invites and the audit log
    (and, from ``hosting.py``, who may create meetings).

    Create it with ``await Store.open(url)`` and end it with ``await store.close()``.
    Every failure of the database raises :class:`StoreError` (or its
    subclasses :class:`RecordNotFoundError` and :class:`RecordExistsError`).
    """

    def __init__(self, engine: AsyncEngine, url: URL) -> None:
        """Wrap an engine whose database is migrated; use :meth:`open` instead."""
        self._engine = engine
        self._where = shown(url)
        self._closed = False
        self._write_turn: asyncio.Lock | None = (
            asyncio.Lock() if url.get_backend_name() == "sqlite" else None
        )

    @property
    def shareable(self) -> bool:
        """Whether several nodes may use this database (PostgreSQL; a SQLite file is one
        machine's)."""
        return self._write_turn is None

    @classmethod
    async def open(cls, url: str) -> Store:
        """Open the database at ``url``, migrate it to the current schema and return a store.

        Creates a SQLite file's directory if needed. Raises StoreError, saying
        what was wrong, for a bad URL, an unreachable server, a refused login,
        an unwritable path or a database migrated by a newer meetwarden.
        """
        parsed = parse_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite:
            prepare_sqlite_file(parsed)
        engine = create_engine(parsed)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(upgrade_to_head)
        except Exception as error:
            await engine.dispose()
            detail = str(error) if isinstance(error, StoreError) else describe(error)
            hint = (
                "check --database-url (or --data-dir) and that the path is a writable "
                "meetwarden SQLite database"
                if is_sqlite
                else "check --database-url and that the PostgreSQL server is running, "
                "reachable and accepts this user"
            )
            message = f"cannot open the database at {shown(parsed)}: {detail}; {hint}"
            raise StoreError(message) from error
        return cls(engine, parsed)

    async def close(self) -> None:
        """Close every pooled connection; later calls raise StoreError. Closing twice is fine."""
        self._closed = True
        await self._engine.dispose()

    async def ping(self) -> None:
        """One round trip to the database (for /healthz); StoreError if it does not answer."""
        async with self._reading("reach the database") as connection:
            await connection.execute(text("SELECT 1"))

    # Transactions.

    def _writing(self, what: str) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction, committed at the end; failures become StoreError."""
        return self._transaction(what, write=True)

    def _reading(self, what: str) -> AbstractAsyncContextManager[AsyncConnection]:
        """A read-only transaction (one snapshot on SQLite); failures become StoreError."""
        return self._transaction(what, write=False)

    @asynccontextmanager
    async def _transaction(self, what: str, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError(f"could not {what}: the store of {self._where} is closed")
        turn = self._write_turn if write and self._write_turn is not None else nullcontext()
        async with turn:
            try:
                connection = await self._engine.connect()
            except Exception as error:
                # Whatever the driver raises while (re)connecting: refused, timed
                # out, or a server error such as a dropped database (asyncpg does
                # not wrap those as DBAPI errors).
                raise StoreError(
                    f"could not {what}: cannot connect to the database at {self._where}: "
                    f"{describe(error)}"
                ) from error
            if write and self._write_turn is not None:
                # SQLite: take the write lock at BEGIN, where the busy timeout waits for
                # it. A transaction that read first and then writes gets SQLITE_BUSY at
                # once, without waiting, if another process wrote meanwhile
                # (sqlite.org/lang_transaction.html, sqlite.org/wal.html section 2.2):
                # workers of one machine share the file (server/workers/).
                connection = await connection.execution_options(sqlite_begin="IMMEDIATE")
            try:
                async with connection.begin():
                    yield connection
            except StoreError:
                raise
            except _DATABASE_FAILURES as error:
                raise StoreError(
                    f"could not {what} in the database at {self._where}: {describe(error)}"
                ) from error
            finally:
                await connection.close()
