"""A throwaway PostgreSQL server for tests, started from the Debian server binaries.

Shared by the store's tests and the end-to-end server tests (see
shared/notes/postgres-testing.md): ``initdb`` and ``pg_ctl`` run as the
``postgres`` user when the tests run as root (both refuse root), on a
temporary directory that user owns, on a free loopback port, with the Unix
socket in that directory (``-k``) so that it never meets a system server.
Durability is switched off (fsync and friends): the cluster is thrown away
at the end. ``new_database()`` gives each test a database of its own.

Use the ``postgres_server`` fixture (import it into a conftest or a test
module), or ``start_postgres()`` / ``stop_postgres()`` directly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "postgres_server", "start_postgres", "stop_postgres"]

_START_TIMEOUT = 30.0
_START_ATTEMPTS = 3
_POLL_INTERVAL = 0.05


def _postgres_binaries() -> Path:
    override = os.environ.get("MEETWARDEN_PG_BIN")
    candidates = (
        [Path(override)]
        if override
        else sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
            reverse=True,
        )
    )
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    pytest.fail(
        "the PostgreSQL server binaries (initdb, pg_ctl) are not installed, and the store "
        "tests run against a real PostgreSQL: run the test command from the README "
        "(`make test`), which installs the Debian package postgresql, or "
        "`apt-get install postgresql` (or set MEETWARDEN_PG_BIN to their directory)."
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL cluster on 127.0.0.1:``port``, user ``postgres``."""

    binaries: Path
    directory: Path
    port: int
    as_owner: list[str]

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement in a database (``postgres`` by default) with psql; its output."""
        result = subprocess.run(
            [
                str(self.binaries / "psql"),
                *("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database),
                *("-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def ready(self) -> bool:
        probe = subprocess.run(
            [str(self.binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    def pg_ctl(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_owner, str(self.binaries / "pg_ctl"), "-D", str(self.data), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )


def start_postgres() -> PostgresServer:
    """Create a cluster in a new temporary directory, start it, return when it accepts."""
    binaries = _postgres_binaries()
    # Not under pytest's tmp_path: its parent is private to the user running the tests.
    # In memory where there is a tmpfs: creating a database per test is then 5x faster.
    shared_memory = Path("/dev/shm")
    in_memory = shared_memory.is_dir() and os.access(shared_memory, os.W_OK)
    directory = Path(
        tempfile.mkdtemp(prefix="meetwarden-pg-", dir=shared_memory if in_memory else None)
    )
    as_owner: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "the tests run as root and PostgreSQL refuses to: a `postgres` user is needed "
                "(the Debian package postgresql creates it; run `make test` from the README)"
            )
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(binaries, directory, 0, as_owner)
    init = subprocess.run(
        [
            *as_owner,
            str(binaries / "initdb"),
            *("-D", str(server.data), "-A", "trust", "-U", "postgres"),
            *("-E", "UTF8", "--locale=C", "--no-sync"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    for attempt in range(1, _START_ATTEMPTS + 1):
        # Another test run may take the free port before this server binds it.
        server.port = _free_port()
        (directory / "log").unlink(missing_ok=True)
        options = (
            f"-k {directory} -h 127.0.0.1 -p {server.port} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = server.pg_ctl("-o", options, "-l", str(directory / "log"), "-W", "start")
        if started.returncode != 0:
            stop_postgres(server)
            pytest.fail(f"pg_ctl start failed:\n{started.stdout}\n{started.stderr}")
        problem = _wait_until_ready(server)
        if problem is None:
            return server
        server.pg_ctl("-m", "immediate", "-w", "stop")
        if problem != "port taken" or attempt == _START_ATTEMPTS:
            log = server.log()
            stop_postgres(server)
            pytest.fail(f"PostgreSQL did not start: {problem}\n{log}")
    raise AssertionError("unreachable")


def _wait_until_ready(server: PostgresServer) -> str | None:
    """Poll until the server accepts connections; None, or what went wrong."""
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.ready():
        if "could not create any TCP/IP sockets" in server.log():
            return "port taken"
        if time.monotonic() > deadline:
            return f"no connection accepted within {_START_TIMEOUT} s"
        time.sleep(_POLL_INTERVAL)  # the pause between two readiness probes
    return None


def stop_postgres(server: PostgresServer) -> None:
    """Stop the cluster (if it runs) and delete its directory."""
    server.pg_ctl("-m", "immediate", "-w", "stop")
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, started on first use."""
    server = start_postgres()
    yield server
    stop_postgres(server)
