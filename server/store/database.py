"""Opening a database: the URL, the async engine, SQLite's settings, and clear errors.

Two backends, each with its async driver:

- SQLite, the default: ``sqlite+aiosqlite:///path/meetwarden.db`` (a plain
  ``sqlite:///`` URL means the same). The file's directory is created if
  missing. Every connection turns on WAL (readers never block the writer),
  foreign keys (off by default in SQLite) and a busy timeout, and runs
  transactions with an explicit ``BEGIN`` so that reads inside a transaction
  see one snapshot and DDL in migrations is transactional (the recipe in
  SQLAlchemy's pysqlite/aiosqlite docs, "Serializable isolation").
- PostgreSQL by URL: ``postgresql+asyncpg://user@host:port/db`` (``postgresql://``
  and ``postgres://`` mean the same). Connections are checked before use, so
  a database restart costs one reconnect instead of an error.

Anything else is refused with a :class:`StoreError` that says which URLs work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .errors import StoreError

__all__ = [
    "CONNECT_TIMEOUT",
    "create_engine",
    "describe",
    "parse_url",
    "prepare_sqlite_file",
    "shown",
]

CONNECT_TIMEOUT: Final = 10.0
"""Seconds to wait for a PostgreSQL server before saying it is unreachable."""

_SQLITE_BUSY_TIMEOUT_MS: Final = 5000
_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_EXAMPLES: Final = (
    "use sqlite+aiosqlite:///path/to/meetwarden.db or "
    "postgresql+asyncpg://user:password@host:5432/database"
)


def shown(url: URL) -> str:
    """The URL as it may appear in a message or a log: the password masked."""
    return url.render_as_string(hide_password=True)


def describe(error: BaseException) -> str:
    """One line saying what the driver reported, without SQL or a traceback."""
    cause: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig
    text = " ".join(str(cause).split())
    if isinstance(cause, TimeoutError) and not text:
        text = f"no answer within {CONNECT_TIMEOUT:g} s"
    return text or type(cause).__name__


def parse_url(url: str) -> URL:
    """Check a database URL and name its async driver; raise StoreError if it cannot work."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(
            f"the database URL {url!r} is not a URL: {_EXAMPLES}; check --database-url"
        ) from error
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise StoreError(
            f"the database URL {shown(parsed)} names {parsed.drivername!r}, which meetwarden "
            f"does not support: {_EXAMPLES}; check --database-url"
        )
    parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StoreError(
            f"the database URL {shown(parsed)} names no file, and an in-memory database "
            f"would lose every meeting at restart: {_EXAMPLES}; check --database-url"
        )
    return parsed


def prepare_sqlite_file(url: URL) -> None:
    """Create the SQLite file's directory; raise StoreError if the path cannot hold a file."""
    path = Path(url.database or "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot open the database at {shown(url)}: cannot create the directory "
            f"{str(path.parent)!r} ({error.strerror or error}); choose a writable location "
            "with --data-dir or --database-url"
        ) from error
    if path.is_dir():
        raise StoreError(
            f"cannot open the database at {shown(url)}: {str(path)!r} is a directory, not a "
            "database file; check --database-url"
        )


def create_engine(url: URL) -> AsyncEngine:
    """An async engine for a URL from :func:`parse_url`, set up for its backend."""
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _set_up_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": CONNECT_TIMEOUT})


def _set_up_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling would begin lazily, only before a
    # write; SQLAlchemy's "begin" event below emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        # With WAL, NORMAL loses no committed data on an application crash,
        # only possibly the last transactions on a power loss (sqlite.org/wal.html).
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # A write transaction asks for BEGIN IMMEDIATE (Store._transaction).
    mode = connection.get_execution_options().get("sqlite_begin")
    connection.exec_driver_sql(f"BEGIN {mode}" if mode == "IMMEDIATE" else "BEGIN")
