"""Opening the store: which URLs work, and one clear StoreError when the database cannot."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

import meetwarden.server.store as store_package
from meetwarden.server.store import Store, StoreError

pytestmark = pytest.mark.anyio


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def open_and_close(url: str) -> None:
    await (await Store.open(url)).close()


async def open_fails(url: str) -> str:
    """Open ``url``, expecting a StoreError; return its message."""
    with pytest.raises(StoreError) as caught:
        await open_and_close(url)
    message = str(caught.value)
    assert "Traceback" not in message
    assert "\n" not in message
    return message


async def test_the_sqlite_file_and_its_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "several" / "levels" / "meetwarden.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    await store.close()
    assert path.is_file()


async def test_plain_scheme_names_choose_the_async_drivers(
    tmp_path: Path, postgres_server: Any
) -> None:
    for url in (
        f"sqlite:///{tmp_path / 'plain.db'}",
        postgres_server.new_database().replace("postgresql+asyncpg://", "postgresql://"),
        postgres_server.new_database().replace("postgresql+asyncpg://", "postgres://"),
    ):
        store = await Store.open(url)
        assert await store.active_meetings() == []
        await store.close()


async def test_an_unreachable_postgresql_server_is_a_clear_error() -> None:
    port = closed_port()
    message = await open_fails(f"postgresql+asyncpg://meetwarden@127.0.0.1:{port}/meetwarden")
    assert message.startswith(
        f"cannot open the database at postgresql+asyncpg://meetwarden@127.0.0.1:{port}/meetwarden:"
    )
    assert "check --database-url" in message
    assert "running, reachable" in message


async def test_the_password_in_a_url_never_appears_in_the_error() -> None:
    message = await open_fails(
        f"postgresql+asyncpg://meetwarden:hunter2-secret@127.0.0.1:{closed_port()}/db"
    )
    assert "hunter2-secret" not in message
    assert "meetwarden:***@127.0.0.1" in message


async def test_a_missing_postgresql_database_or_role_is_named(postgres_server: Any) -> None:
    missing_database = await open_fails(postgres_server.url("no_such_database"))
    assert 'database "no_such_database" does not exist' in missing_database
    missing_role = await open_fails(
        postgres_server.url("postgres").replace("//postgres@", "//no_such_role@")
    )
    assert 'role "no_such_role" does not exist' in missing_role


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "'not a url' is not a URL: use sqlite+aiosqlite:///"),
        ("", "is not a URL"),
        ("mysql+aiomysql://user@localhost/db", "names 'mysql+aiomysql', which meetwarden does not"),
        ("sqlite+pysqlite:///x.db", "names 'sqlite+pysqlite'"),
        ("sqlite+aiosqlite://", "in-memory database would lose every meeting"),
        ("sqlite+aiosqlite:///:memory:", "in-memory database"),
    ],
)
async def test_a_url_that_cannot_work_is_refused_with_the_urls_that_do(
    url: str, expected: str
) -> None:
    message = await open_fails(url)
    assert expected in message
    assert "check --database-url" in message


async def test_a_sqlite_path_whose_directory_cannot_be_created_is_a_clear_error(
    tmp_path: Path,
) -> None:
    # A regular file where a directory should be: unwritable even for root.
    (tmp_path / "occupied").write_text("not a directory")
    message = await open_fails(f"sqlite+aiosqlite:///{tmp_path / 'occupied' / 'meetwarden.db'}")
    assert "cannot create the directory" in message
    assert str(tmp_path / "occupied") in message


async def test_a_sqlite_path_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    message = await open_fails(f"sqlite+aiosqlite:///{tmp_path}")
    assert "is a directory, not a database file" in message


async def test_a_file_that_is_not_a_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "meetwarden.db"
    path.write_bytes(b"these are not the pages of a SQLite database " * 100)
    message = await open_fails(f"sqlite+aiosqlite:///{path}")
    assert message.startswith(f"cannot open the database at sqlite+aiosqlite:///{path}:")
    assert "file is not a database" in message
    assert "check --database-url" in message


async def test_a_closed_store_refuses_work_with_a_store_error(database_url: str) -> None:
    store = await Store.open(database_url)
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match=r"could not read a meeting: the store of .* is closed"):
        await store.get_meeting("m")
    with pytest.raises(StoreError, match="is closed"):
        await store.set_locked("m", True)


def test_the_package_exports_what_all_lists() -> None:
    public = {
        name
        for name, value in vars(store_package).items()
        if not name.startswith("_") and not isinstance(value, type(store_package))
    }
    assert public == set(store_package.__all__)


async def test_postgresql_going_away_mid_run_gives_store_errors_and_coming_back_recovers(
    postgres_server: Any,
) -> None:
    url = postgres_server.new_database()
    database = url.rsplit("/", 1)[1]
    disconnect = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    store = await Store.open(url)
    try:
        postgres_server.sql(disconnect)
        assert await store.active_meetings() == []  # pooled connections are checked first
        postgres_server.sql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
        postgres_server.sql(disconnect)
        with pytest.raises(StoreError, match="could not list the active meetings: cannot connect"):
            await store.active_meetings()
        postgres_server.sql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")
        assert await store.active_meetings() == []
    finally:
        await store.close()
