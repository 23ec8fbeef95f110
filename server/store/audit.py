"""The store's operations on the append-only audit log: append entries, read them back.

A mixin of :class:`~meetwarden.server.store.Store` (each operation one
transaction, failures as :class:`StoreError`). Entries are never updated or
deleted; the filters of a read are built in ``rows.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import IntegrityError

from .errors import StoreError
from .many_rows import RowsStatement
from .records import AuditEntry
from .rows import AUDIT_COLUMNS, audit_entry_from_row, audit_query, audit_row
from .tables import audit_entries
from .transactions import Transactions, require_meetings

__all__ = ["AuditLog"]

_INSERT = RowsStatement(
    insert(audit_entries).values({name: bindparam(name) for name in AUDIT_COLUMNS}).inline(),
    AUDIT_COLUMNS,
)
"""An audit row's INSERT (no ids returned), for a batch at once."""


class AuditLog(Transactions):
    """The store's operations on the audit log."""

    async def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries in one transaction; their ids increase in the order given.

        All or nothing: if one entry names an unknown meeting, none is stored.
        """
        rows = [audit_row(entry) for entry in entries]
        if not rows:
            return
        try:
            async with self._writing("append to the audit log") as connection:
                await _INSERT.run(connection, rows)
        except StoreError as error:
            if isinstance(error.__cause__, IntegrityError):
                # The foreign key refused a meeting the database does not hold (checked
                # by the database, not by a query of its own in every batch): say which.
                async with self._reading("read the meetings of audit entries") as connection:
                    await require_meetings(connection, {entry.meeting_id for entry in entries})
            raise

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
