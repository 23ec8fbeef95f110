"""Many rows written by one statement: a batch as the database driver takes it.

SQLAlchemy's ``execute`` with a list of rows processes each row's values in
Python and hands them to the driver's ``executemany``, and SQLite's driver then
steps the statement once a row. Each step gives the interpreter's lock to the
event loop's thread and waits to get it back: under a busy loop, a thread switch
a row. Here a statement is compiled by SQLAlchemy once per dialect, its rows go
to the driver as tuples (``exec_driver_sql``), and on SQLite a batch is one
statement with a row of values each (https://www.sqlite.org/lang_insert.html),
one step for all. PostgreSQL's driver takes the rows as they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

__all__ = ["RowsStatement"]

SQLITE_VALUES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
"""Values in one SQLite statement at most, by default: 32766 since SQLite 3.32, 999
before (https://www.sqlite.org/limits.html, "Maximum Number Of Host Parameters")."""


class RowsStatement:
    """An INSERT of one row of ``columns``, run for many rows at once."""

    def __init__(self, statement: Executable, columns: Sequence[str]) -> None:
        self._statement = statement
        self._columns = tuple(columns)
        self._compiled: dict[str, str] = {}

    def _sql(self, dialect: Dialect) -> str:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            # Both drivers take positional values, in the order the columns are named.
            assert compiled.positiontup == list(self._columns), compiled.positiontup
            found = self._compiled[dialect.name] = str(compiled)
        return found

    @staticmethod
    def _sqlite_rows(sql: str, count: int) -> str:
        """``sql`` with ``count`` rows of values in place of its one (made for each batch,
        a join of ``count`` strings: kept, every batch size seen would stay in memory)."""
        head, values, row = sql.partition(" VALUES ")
        assert values, sql
        assert row.startswith("("), sql
        assert row.endswith(")"), sql  # one row of placeholders ends the statement
        return f"{head} VALUES {','.join([row] * count)}"

    async def run(self, connection: AsyncConnection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Runs the statement for ``rows`` (each a tuple of the columns' values, in order)."""
        if not rows:
            return
        sql = self._sql(connection.dialect)
        if connection.dialect.name != "sqlite":
            await connection.exec_driver_sql(sql, list(rows))
            return
        most = SQLITE_VALUES // len(self._columns)
        for start in range(0, len(rows), most):
            chunk = rows[start : start + most]
            await connection.exec_driver_sql(
                self._sqlite_rows(sql, len(chunk)), tuple(chain.from_iterable(chunk))
            )
