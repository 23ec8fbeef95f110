"""The store's operations on the append-only audit log: append entries, read them back.

A mixin of :class:`~meetwarden.server.store.Store` (each operation one
transaction, failures as :class:`StoreError`). Entries are never updated or
deleted; the filters of a read are built in ``rows.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from .errors import StoreError
from .records import AuditEntry
from .rows import AUDIT_COLUMNS, audit_entry_from_row, audit_query, audit_row
from .tables import audit_entries
from .transactions import Transactions, require_meetings

__all__ = ["AuditLog"]

_INSERTS: dict[str, str] = {}
_SQLITE_VALUES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
"""Values in one SQLite statement at most, by default: 32766 since SQLite 3.32, 999
before (https://www.sqlite.org/limits.html, "Maximum Number Of Host Parameters")."""
_SQLITE_INSERTS: dict[int, str] = {}


def _insert_for(dialect: Dialect) -> str:
    """The INSERT of an audit row as the database driver takes it, its values in
    ``AUDIT_COLUMNS`` order: compiled by SQLAlchemy once per dialect. The rows of a batch
    go to the driver as they are (``exec_driver_sql``); through ``execute`` each row's
    values were processed one by one, twice the cost of storing the row."""
    found = _INSERTS.get(dialect.name)
    if found is None:
        values = {name: bindparam(name) for name in AUDIT_COLUMNS}
        statement = insert(audit_entries).values(values).inline()  # no ids returned
        compiled = statement.compile(dialect=dialect)
        # Both drivers take positional values, in the order the columns are named.
        assert compiled.positiontup == list(AUDIT_COLUMNS), compiled.positiontup
        found = _INSERTS[dialect.name] = str(compiled)
    return found


def _sqlite_rows(sql: str, count: int) -> str:
    """``sql`` (one row's INSERT) for ``count`` rows in one statement, as SQLite takes
    them (https://www.sqlite.org/lang_insert.html): one step stores the batch. The
    driver's ``executemany`` stepped once a row, and each step gave the interpreter's
    lock to the event loop's thread and waited to get it back, a thread switch a row
    while the loop was busy."""
    found = _SQLITE_INSERTS.get(count)
    if found is None:
        head, values, tail = sql.partition(" VALUES ")
        assert values, sql
        assert tail.startswith("("), sql
        assert tail.endswith(")"), sql
        found = _SQLITE_INSERTS[count] = f"{head} VALUES {','.join([tail] * count)}"
    return found


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
                sql = _insert_for(connection.dialect)
                if connection.dialect.name != "sqlite":
                    await connection.exec_driver_sql(sql, rows)
                    return
                most = _SQLITE_VALUES // len(AUDIT_COLUMNS)
                for start in range(0, len(rows), most):
                    chunk = rows[start : start + most]
                    await connection.exec_driver_sql(
                        _sqlite_rows(sql, len(chunk)), tuple(chain.from_iterable(chunk))
                    )
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
