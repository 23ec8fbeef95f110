"""The store's operations on meetings: their policy versions, identities and saved places.

A mixin of :class:`~meetwarden.server.store.Store` (each operation one
transaction, failures as :class:`StoreError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, get_args

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .errors import RecordExistsError
from .holders import check_holder, fenced_error, fenced_out
from .many_rows import RowsStatement
from .records import IdentityKind, MeetingRecord, PlacesSave, PolicyVersion
from .rows import meeting_from_row, meeting_query, meeting_row, version_row
from .tables import meeting_identities, meetings, policy_versions, room_states
from .transactions import Transactions, no_meeting, require_meetings

__all__ = ["MeetingRecords"]

_IDENTITY_KINDS: Final = frozenset(get_args(IdentityKind))


class MeetingRecords(Transactions):
    """The store's operations on meetings, their policies, bans and saved places."""

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

    async def replace_policy(
        self, meeting_id: str, document: str, *, at: float, by: str, holder: int | None = None
    ) -> int:
        """Put ``document`` in force as the next revision, keeping the old ones; return it
        (``holder``: as for ``save_room_state``)."""
        async with self._writing("replace a meeting's policy") as connection:
            if holder is not None:
                await check_holder(connection, meeting_id, holder)
            revision = await connection.scalar(
                update(meetings)
                .where(meetings.c.id == meeting_id)
                .values(policy_revision=meetings.c.policy_revision + 1)
                .returning(meetings.c.policy_revision)
            )
            if revision is None:
                raise no_meeting(meeting_id)
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

    async def set_locked(self, meeting_id: str, locked: bool, *, holder: int | None = None) -> None:
        """Lock or unlock the meeting (``holder``: as for ``save_room_state``)."""
        await self._update_meeting(
            "lock or unlock a meeting", meeting_id, holder=holder, locked=locked
        )

    async def end_meeting(self, meeting_id: str, at: float, *, holder: int | None = None) -> None:
        """Mark the meeting ended at ``at``; ending it again keeps the first time
        (``holder``: as for ``save_room_state``)."""
        await self._update_meeting(
            "end a meeting",
            meeting_id,
            holder=holder,
            ended_at=func.coalesce(meetings.c.ended_at, at),
        )

    # Identities: bans, and people who must wait again.

    async def add_identities(
        self,
        meeting_id: str,
        kind: IdentityKind,
        keys: Iterable[str],
        *,
        at: float,
        holder: int | None = None,
    ) -> None:
        """Record identity keys as banned or as ``must_wait``; a key already there stays as is
        (``holder``: as for ``save_room_state``)."""
        if kind not in _IDENTITY_KINDS:
            raise ValueError(f"kind must be one of {sorted(_IDENTITY_KINDS)}, not {kind!r}")
        if isinstance(keys, str):
            raise TypeError("keys must be an iterable of identity keys, not one string")
        rows = [
            {"meeting_id": meeting_id, "kind": kind, "key": key, "added_at": at}
            for key in dict.fromkeys(keys)
        ]
        async with self._writing("record identities") as connection:
            await require_meetings(connection, {meeting_id})
            if holder is not None:
                await check_holder(connection, meeting_id, holder)
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

    # Where the people of a live meeting stand (the Room's places, as JSON).

    async def save_room_state(
        self, meeting_id: str, document: str, *, at: float, holder: int | None = None
    ) -> None:
        """Replace the meeting's saved places (one row per meeting). With ``holder`` (the
        claim generation this node loaded the meeting under), FencedOutError if another
        node has taken the meeting over since (``holders.py``)."""
        await self._save_one(PlacesSave(meeting_id, document, at, holder))

    async def save_room_states(self, saves: Sequence[PlacesSave]) -> set[str]:
        """Store (or forget, for a ``None`` document) the places of several meetings in
        one transaction: a busy server commits once for every meeting that changed
        meanwhile, not once per meeting. The ids of the meetings another node holds now
        are returned, and nothing is written for them (the others are written)."""
        async with self._writing("save meetings' places") as connection:
            holders = {s.meeting_id: s.holder for s in saves if s.holder is not None}
            fenced = await fenced_out(connection, holders)
            kept = {s.meeting_id: s for s in saves if s.meeting_id not in fenced}  # the last
            if kept:
                await connection.execute(
                    delete(room_states).where(room_states.c.meeting_id.in_(list(kept)))
                )
                rows = [(s.meeting_id, s.at, s.document) for s in kept.values()]
                await _SAVED_PLACES.run(connection, [row for row in rows if row[2] is not None])
        return fenced

    async def room_state(self, meeting_id: str) -> str | None:
        """The meeting's saved places, or None."""
        query = select(room_states.c.document).where(room_states.c.meeting_id == meeting_id)
        async with self._reading("read a meeting's places") as connection:
            found: str | None = await connection.scalar(query)
        return found

    async def forget_room_state(self, meeting_id: str, *, holder: int | None = None) -> None:
        await self._save_one(PlacesSave(meeting_id, None, 0.0, holder))

    async def _save_one(self, save: PlacesSave) -> None:
        if await self.save_room_states([save]):
            assert save.holder is not None  # only a named claim is ever fenced out
            raise fenced_error(save.meeting_id, save.holder)

    async def _update_meeting(
        self, what: str, meeting_id: str, *, holder: int | None = None, **values: Any
    ) -> None:
        async with self._writing(what) as connection:
            if holder is not None:
                await check_holder(connection, meeting_id, holder)
            found = await connection.scalar(
                update(meetings)
                .where(meetings.c.id == meeting_id)
                .values(**values)
                .returning(meetings.c.id)
            )
            if found is None:
                raise no_meeting(meeting_id)


_PLACES_COLUMNS: Final = ("meeting_id", "saved_at", "document")
_SAVED_PLACES: Final = RowsStatement(
    insert(room_states).values({name: bindparam(name) for name in _PLACES_COLUMNS}),
    _PLACES_COLUMNS,
)
"""The meetings' places of a save, in one statement."""
