"""The packaged migrations: they build exactly the tables' metadata, on both backends."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from meetwarden.server.store import AuditEntry, InviteRecord, MeetingRecord, Store, StoreError
from meetwarden.server.store.database import create_engine, parse_url
from meetwarden.server.store.migrating import (
    MIGRATIONS_DIRECTORY,
    alembic_config,
    head_revision,
    upgrade_to_head,
)
from meetwarden.server.store.tables import metadata

pytestmark = pytest.mark.anyio


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def test_migrations_build_exactly_the_metadata(database_url: str) -> None:
    await (await Store.open(database_url)).close()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
            assert await connection.run_sync(current_revisions) == (head_revision(),)
    finally:
        await engine.dispose()


async def test_downgrading_to_nothing_and_upgrading_again_gives_the_same_schema(
    database_url: str,
) -> None:
    await (await Store.open(database_url)).close()
    engine = create_engine(parse_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: sorted(sync.dialect.get_table_names(sync))
            )
        assert tables == ["alembic_version"]
        await (await Store.open(database_url)).close()
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
    finally:
        await engine.dispose()


async def test_opening_again_at_head_changes_nothing(database_url: str) -> None:
    for _ in range(2):
        await (await Store.open(database_url)).close()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revisions) == (head_revision(),)
    finally:
        await engine.dispose()


async def test_a_database_migrated_by_a_newer_meetwarden_is_refused(database_url: str) -> None:
    await (await Store.open(database_url)).close()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    with pytest.raises(StoreError, match=r"schema revision 9999, which this version") as caught:
        await Store.open(database_url)
    assert "a newer meetwarden migrated it" in str(caught.value)


def test_revisions_form_one_line_numbered_in_order_with_matching_file_names() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(reversed(list(script.walk_revisions())))
    assert [revision.revision for revision in revisions] == [
        f"{number:04d}" for number in range(1, len(revisions) + 1)
    ]
    for previous, revision in zip([None, *revisions], revisions, strict=False):
        assert revision.down_revision == (previous.revision if previous else None)
        assert revision.path is not None
        assert re.fullmatch(rf"r{revision.revision}_\w+\.py", Path(revision.path).name)
        assert Path(revision.path).parent == MIGRATIONS_DIRECTORY / "versions"


def test_the_new_revision_template_ships_with_the_migrations() -> None:
    assert (MIGRATIONS_DIRECTORY / "script.py.mako").is_file()
    assert (MIGRATIONS_DIRECTORY / "env.py").is_file()


async def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "meetwarden.db"
    url = f"sqlite:///{path}"  # the driver is chosen by the store: aiosqlite
    await (await Store.open(url)).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    engine = create_engine(parse_url(url))
    try:
        async with engine.connect() as connection:
            settings = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert settings == [1, "wal", 5000]


# A later revision of the kind SQLite makes hard: the meetings table, which
# every other table refers to, is copied to a new table and the old one dropped.
_REBUILD_MEETINGS = """
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("meetings", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("notes")
"""


async def test_a_later_migration_can_rebuild_a_table_others_refer_to_and_keep_the_data(
    database_url: str,
    tmp_path: Path,
    make_meeting: Callable[..., MeetingRecord],
    make_entry: Callable[..., AuditEntry],
) -> None:
    store = await Store.open(database_url)
    await store.create_meeting(make_meeting("m"))
    await store.replace_policy("m", "{}", at=2.0, by="host")
    await store.add_identities("m", "ban", ["device:a"], at=3.0)
    await store.add_invite(InviteRecord("jti", "m", "participant", 1.0, 2.0))
    await store.append_audit([make_entry("m", n) for n in range(3)])
    await store.close()
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIRECTORY, directory, ignore=shutil.ignore_patterns("__pycache__"))
    following = f"{int(head_revision()) + 1:04d}"
    (directory / "versions" / f"r{following}_rebuild_meetings.py").write_text(
        _REBUILD_MEETINGS.format(revision=following, down_revision=head_revision())
    )

    engine = create_engine(parse_url(database_url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(upgrade_to_head, directory)
        async with engine.connect() as connection:
            counts = [
                (await connection.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (
                    "meetings",
                    "policy_versions",
                    "meeting_identities",
                    "invites",
                    "audit_entries",
                )
            ]
            assert counts == [1, 2, 1, 1, 3]
            assert await connection.run_sync(current_revisions) == (following,)
        with pytest.raises(IntegrityError):  # references are enforced again afterwards
            async with engine.begin() as connection:
                await connection.exec_driver_sql(
                    "INSERT INTO invites (jti, meeting_id, role, created_at, expires_at) "
                    "VALUES ('orphan', 'no-such-meeting', 'participant', 1, 2)"
                )
    finally:
        await engine.dispose()
