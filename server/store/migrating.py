"""Running the packaged alembic migrations from code, with no alembic.ini on disk.

:func:`upgrade_to_head` is what :meth:`Store.open` runs, on its own
connection (``AsyncConnection.run_sync``) and in one transaction, so a failed
migration leaves the database as it was (DDL is transactional on both
backends). On PostgreSQL, servers that start at the same moment take turns
through an advisory lock; on SQLite, foreign keys are off while migrating and
checked before the commit (see ``upgrade_to_head``).

The migration scripts are ``migrations/versions/r<NNNN>_<slug>.py`` with
revision ids ``0001``, ``0002``, ...; ``python -m
meetwarden.server.store.migrations "what changed"`` writes the next one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from .errors import StoreError

__all__ = ["MIGRATIONS_DIRECTORY", "alembic_config", "head_revision", "upgrade_to_head"]

MIGRATIONS_DIRECTORY: Final = Path(__file__).with_name("migrations")
# Any fixed 64-bit number: the key of the lock that serialises migrations on PostgreSQL.
_MIGRATION_LOCK_KEY: Final = 0x6D65657477617264


def alembic_config(
    connection: Connection | None = None,
    *,
    url: str | None = None,
    directory: Path = MIGRATIONS_DIRECTORY,
) -> Config:
    """An alembic configuration for the migrations in ``directory``, on a connection or a URL."""
    config = Config()
    config.set_main_option("script_location", _escaped(str(directory)))
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", _escaped(url))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision id the packaged migrations end at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def upgrade_to_head(connection: Connection, directory: Path = MIGRATIONS_DIRECTORY) -> None:
    """Migrate the database on ``connection`` to the head revision, in one transaction.

    ``connection`` must not be in a transaction yet; it is committed here.
    Raises StoreError if the database is at a revision these migrations do
    not know (a newer meetwarden migrated it).
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            _upgrade(connection, directory)
        return
    # Changing a SQLite table means copying it to a new one and dropping the
    # old; with foreign keys on, the drop counts as deleting every row that
    # others refer to, and the commit fails even with deferred checks
    # (sqlite.org/lang_altertable.html, "otheralter"). So they are off while
    # migrating (a pragma that only takes effect outside a transaction), and
    # checked before the commit instead.
    _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            _upgrade(connection, directory)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise StoreError(
                    f"a migration left {len(broken)} rows whose references point nowhere "
                    f"(first: {tuple(broken[0])}); the database was not changed"
                )
    finally:
        _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _upgrade(connection: Connection, directory: Path) -> None:
    config = alembic_config(connection, directory=directory)
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    unknown = sorted(set(current) - known)
    if unknown:
        raise StoreError(
            f"the database is at schema revision {', '.join(unknown)}, which this version of "
            f"meetwarden does not know (it knows up to {script.get_current_head()}); a newer "
            "meetwarden migrated it: run that version, or point --database-url elsewhere"
        )
    command.upgrade(config, "head")


def _sqlite_pragma(connection: Connection, statement: str) -> None:
    # Through the driver's own cursor: a statement through SQLAlchemy would
    # begin a transaction first, where these pragmas do nothing.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _escaped(value: str) -> str:
    # Config values go through configparser interpolation, where % is special.
    return value.replace("%", "%%")
