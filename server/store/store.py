"""The store: meetings, their policy versions, identities, invites and the audit log.

One :class:`Store` per server process, opened with :meth:`Store.open`, which
migrates the database to the packaged head revision first. Every method is
one transaction. Records go in and come out as the frozen dataclasses of
``records.py``; no row or session escapes.

Writes on SQLite take turns through an in-process lock: SQLite has one writer
at a time anyway, and a transaction that reads before it writes would
otherwise fail with "database is locked" instead of waiting its turn. Readers
run beside the writer (WAL). PostgreSQL needs no lock: a policy replacement
increments the meeting's revision with one UPDATE, which holds the row until
the version row is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, Final, get_args

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .database import create_engine, describe, parse_url, prepare_sqlite_file, shown
from .errors import RecordExistsError, RecordNotFoundError, StoreError
from .hosting import HostingRecords
from .migrating import upgrade_to_head
from .records import (
    AuditEntry,
    FileRecord,
    IdentityKind,
    InviteRecord,
    MeetingRecord,
    PolicyVersion,
)
from .rows import (
    audit_entry_from_row,
    audit_query,
    audit_row,
    invite_from_row,
    invite_row,
    meeting_from_row,
    meeting_query,
    meeting_row,
    version_row,
)
from .tables import (
    audit_entries,
    files,
    invites,
    meeting_identities,
    meetings,
    policy_versions,
    room_states,
)

__all__ = ["Store"]

_IDENTITY_KINDS: Final = frozenset(get_args(IdentityKind))
# What a failing database raises inside a transaction: SQLAlchemy's wrapped
# driver errors, and socket errors and timeouts.
_DATABASE_FAILURES: Final = (SQLAlchemyError, OSError, TimeoutError)


class Store(HostingRecords):
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

    # Meetings and their policies.

    async def create_meeting(self, record: MeetingRecord, *, created_by: str = "host") -> None:
        """Store a new meeting and its policy as version ``record.policy_revision``."""
        async with self._writing("store a new meeting") as connection:
            found = await connection.scalar(select(meetings.c.id).where(meetings.c.id == record.id))
            if found is not None:
                raise RecordExistsError(f"a meeting with id {record.id!r} is already stored")
            await connection.execute(insert(meetings).values(meeting_row(record)))
            version = version_row(
                record.id,
                record.policy_revision,
                record.policy_document,
                at=record.created_at,
                by=created_by,
            )
            await connection.execute(insert(policy_versions).values(version))

    async def get_meeting(self, meeting_id: str) -> MeetingRecord | None:
        """The meeting with its policy in force, or None if no such meeting is stored."""
        async with self._reading("read a meeting") as connection:
            result = await connection.execute(meeting_query().where(meetings.c.id == meeting_id))
            row = result.mappings().first()
        return None if row is None else meeting_from_row(row)

    async def active_meetings(self) -> list[MeetingRecord]:
        """Every meeting not ended, oldest first."""
        query = (
            meeting_query()
            .where(meetings.c.ended_at.is_(None))
            .order_by(meetings.c.created_at, meetings.c.id)
        )
        async with self._reading("list the active meetings") as connection:
            result = await connection.execute(query)
            return [meeting_from_row(row) for row in result.mappings()]

    async def replace_policy(self, meeting_id: str, document: str, *, at: float, by: str) -> int:
        """Put ``document`` in force as the next revision, keeping the old ones; return it."""
        async with self._writing("replace a meeting's policy") as connection:
            revision = await connection.scalar(
                update(meetings)
                .where(meetings.c.id == meeting_id)
                .values(policy_revision=meetings.c.policy_revision + 1)
                .returning(meetings.c.policy_revision)
            )
            if revision is None:
                raise _no_meeting(meeting_id)
            await connection.execute(
                insert(policy_versions).values(
                    version_row(meeting_id, revision, document, at=at, by=by)
                )
            )
        return int(revision)

    async def policy_versions(self, meeting_id: str) -> list[PolicyVersion]:
        """Every policy revision of the meeting, oldest first (empty for an unknown meeting)."""
        query = (
            select(policy_versions)
            .where(policy_versions.c.meeting_id == meeting_id)
            .order_by(policy_versions.c.revision)
        )
        async with self._reading("read a meeting's policy versions") as connection:
            result = await connection.execute(query)
            return [PolicyVersion(**row) for row in result.mappings()]

    async def set_password_hash(self, meeting_id: str, password_hash: str | None) -> None:
        """Set (or, with None, remove) the meeting's password hash."""
        await self._update_meeting(
            "set a meeting's password", meeting_id, password_hash=password_hash
        )

    async def set_locked(self, meeting_id: str, locked: bool) -> None:
        """Lock or unlock the meeting."""
        await self._update_meeting("lock or unlock a meeting", meeting_id, locked=locked)

    async def end_meeting(self, meeting_id: str, at: float) -> None:
        """Mark the meeting ended at ``at``; ending it again keeps the first time."""
        await self._update_meeting(
            "end a meeting", meeting_id, ended_at=func.coalesce(meetings.c.ended_at, at)
        )

    # Identities: bans, and people who must wait again.

    async def add_identities(
        self, meeting_id: str, kind: IdentityKind, keys: Iterable[str], *, at: float
    ) -> None:
        """Record identity keys as banned or as ``must_wait``; a key already there stays as is."""
        if kind not in _IDENTITY_KINDS:
            raise ValueError(f"kind must be one of {sorted(_IDENTITY_KINDS)}, not {kind!r}")
        if isinstance(keys, str):
            raise TypeError("keys must be an iterable of identity keys, not one string")
        rows = [
            {"meeting_id": meeting_id, "kind": kind, "key": key, "added_at": at}
            for key in dict.fromkeys(keys)
        ]
        async with self._writing("record identities") as connection:
            await _require_meetings(connection, {meeting_id})
            if rows:
                insert_or_ignore = (
                    postgresql.insert(meeting_identities)
                    if connection.dialect.name == "postgresql"
                    else sqlite.insert(meeting_identities)
                )
                await connection.execute(insert_or_ignore.on_conflict_do_nothing(), rows)

    async def identities(self, meeting_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """The meeting's (banned keys, must_wait keys); empty sets for an unknown meeting."""
        query = select(meeting_identities.c.kind, meeting_identities.c.key).where(
            meeting_identities.c.meeting_id == meeting_id
        )
        async with self._reading("read a meeting's bans") as connection:
            rows = (await connection.execute(query)).all()
        bans = frozenset(key for kind, key in rows if kind == "ban")
        must_wait = frozenset(key for kind, key in rows if kind == "must_wait")
        return bans, must_wait

    # Invites.

    async def add_invite(self, record: InviteRecord) -> None:
        """Store an invite; its meeting must be stored and its ``jti`` new."""
        async with self._writing("store an invite") as connection:
            await _require_meetings(connection, {record.meeting_id})
            found = await connection.scalar(
                select(invites.c.jti).where(invites.c.jti == record.jti)
            )
            if found is not None:
                raise RecordExistsError(f"an invite with jti {record.jti!r} is already stored")
            await connection.execute(insert(invites).values(invite_row(record)))

    async def get_invite(self, jti: str) -> InviteRecord | None:
        """The invite named ``jti``, or None."""
        async with self._reading("read an invite") as connection:
            result = await connection.execute(select(invites).where(invites.c.jti == jti))
            row = result.mappings().first()
        return None if row is None else invite_from_row(row)

    async def revoke_invite(self, jti: str) -> None:
        """Mark the invite revoked (revoking twice is fine); RecordNotFoundError if unknown."""
        async with self._writing("revoke an invite") as connection:
            found = await connection.scalar(
                update(invites)
                .where(invites.c.jti == jti)
                .values(revoked=True)
                .returning(invites.c.jti)
            )
            if found is None:
                raise RecordNotFoundError(f"no invite with jti {jti!r} is stored")

    # The audit log.

    async def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries in one transaction; their ids increase in the order given.

        All or nothing: if one entry names an unknown meeting, none is stored.
        """
        rows = [audit_row(entry) for entry in entries]
        if not rows:
            return
        async with self._writing("append to the audit log") as connection:
            await _require_meetings(connection, {row["meeting_id"] for row in rows})
            await connection.execute(insert(audit_entries), rows)

    async def audit(
        self,
        meeting_id: str,
        *,
        participant: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
        event_type: str | None = None,
        allowed: bool | None = None,
        since: float | None = None,
        until: float | None = None,
        after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """The meeting's audit entries matching every filter given, by id ascending.

        ``participant`` matches entries where the participant or the actor is
        that id; ``actor`` only the actor. ``since`` is inclusive and ``until``
        exclusive (``since <= at < until``). ``after_id`` continues a previous
        page: pass the last id seen. At most ``limit`` entries.
        """
        query = audit_query(
            meeting_id,
            participant=participant,
            actor=actor,
            reason=reason,
            event_type=event_type,
            allowed=allowed,
            since=since,
            until=until,
            after_id=after_id,
            limit=limit,
        )
        async with self._reading("read the audit log") as connection:
            result = await connection.execute(query)
            return [audit_entry_from_row(row) for row in result.mappings()]

    # Shared files (metadata only: the bytes are in server/files/storage.py's directory).

    async def add_file(self, record: FileRecord) -> None:
        """Store a file's metadata; RecordExistsError if the id is taken."""
        async with self._writing("store a file's metadata") as connection:
            await _require_meetings(connection, {record.meeting_id})
            found = await connection.scalar(select(files.c.id).where(files.c.id == record.id))
            if found is not None:
                raise RecordExistsError(f"a file with id {record.id!r} is already stored")
            await connection.execute(insert(files).values(dataclasses.asdict(record)))

    async def get_file(self, file_id: str) -> FileRecord | None:
        """The file's metadata, or None if no such file is stored."""
        async with self._reading("read a file's metadata") as connection:
            result = await connection.execute(select(files).where(files.c.id == file_id))
            row = result.mappings().first()
        return None if row is None else FileRecord(**row)

    async def mark_file_shared(self, file_id: str) -> None:
        """The engine allowed the offer; RecordNotFoundError if the file is unknown."""
        async with self._writing("mark a file shared") as connection:
            found = await connection.scalar(
                update(files)
                .where(files.c.id == file_id)
                .values(state="shared")
                .returning(files.c.id)
            )
            if found is None:
                raise RecordNotFoundError(f"no file with id {file_id!r} is stored")

    async def delete_file(self, file_id: str) -> bool:
        """Forget a file's metadata; False if there was none."""
        async with self._writing("delete a file's metadata") as connection:
            found = await connection.scalar(
                delete(files).where(files.c.id == file_id).returning(files.c.id)
            )
        return found is not None

    async def pending_files(self) -> list[FileRecord]:
        """Files whose offer was never decided (the server stopped meanwhile), oldest first."""
        query = select(files).where(files.c.state == "pending").order_by(files.c.created_at)
        async with self._reading("list undecided files") as connection:
            result = await connection.execute(query)
            return [FileRecord(**row) for row in result.mappings()]

    async def files_of_ended_meetings(self) -> list[FileRecord]:
        """Every stored file whose meeting has ended (they are deleted with their meeting)."""
        ended = select(meetings.c.id).where(meetings.c.ended_at.is_not(None))
        query = select(files).where(files.c.meeting_id.in_(ended)).order_by(files.c.created_at)
        async with self._reading("list the files of ended meetings") as connection:
            result = await connection.execute(query)
            return [FileRecord(**row) for row in result.mappings()]

    # Where the people of a live meeting stand (the Room's places, as JSON).

    async def save_room_state(self, meeting_id: str, document: str, *, at: float) -> None:
        """Replace the meeting's saved places (one row per meeting)."""
        async with self._writing("save a meeting's places") as connection:
            await connection.execute(
                delete(room_states).where(room_states.c.meeting_id == meeting_id)
            )
            await connection.execute(
                insert(room_states).values(meeting_id=meeting_id, saved_at=at, document=document)
            )

    async def room_state(self, meeting_id: str) -> str | None:
        """The meeting's saved places, or None."""
        query = select(room_states.c.document).where(room_states.c.meeting_id == meeting_id)
        async with self._reading("read a meeting's places") as connection:
            found: str | None = await connection.scalar(query)
        return found

    async def forget_room_state(self, meeting_id: str) -> None:
        async with self._writing("forget a meeting's places") as connection:
            await connection.execute(
                delete(room_states).where(room_states.c.meeting_id == meeting_id)
            )

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

    async def _update_meeting(self, what: str, meeting_id: str, **values: Any) -> None:
        async with self._writing(what) as connection:
            found = await connection.scalar(
                update(meetings)
                .where(meetings.c.id == meeting_id)
                .values(**values)
                .returning(meetings.c.id)
            )
            if found is None:
                raise _no_meeting(meeting_id)


async def _require_meetings(connection: AsyncConnection, meeting_ids: set[str]) -> None:
    query = select(meetings.c.id).where(meetings.c.id.in_(meeting_ids))
    found = set((await connection.scalars(query)).all())
    missing = sorted(meeting_ids - found)
    if missing:
        raise _no_meeting(missing[0])


def _no_meeting(meeting_id: str) -> RecordNotFoundError:
    return RecordNotFoundError(f"no meeting with id {meeting_id!r} is stored")
