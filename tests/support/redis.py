"""A throwaway Redis server for tests, started from Debian's ``redis-server``.

It listens on a Unix socket in a new temporary directory and on no TCP port
(``--port 0``), so it never meets a system Redis and no free port is raced
for. Nothing is persisted (no RDB snapshots, no append-only file: ``--save ''``
and ``--appendonly no``, https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/);
the directory is deleted when it stops. Tests share one server and keep apart
by giving each its own key namespace (``redis_namespace``).

Use the ``redis_server`` fixture (import it into a conftest or a test module),
or ``start_redis()`` / ``stop_redis()`` directly.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

__all__ = ["RedisServer", "redis_namespace", "redis_server", "start_redis", "stop_redis"]

_START_TIMEOUT = 20.0
_POLL_INTERVAL = 0.02


@dataclass
class RedisServer:
    """A running throwaway redis-server on the Unix socket ``socket``."""

    process: subprocess.Popen[bytes]
    directory: Path

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        """The URL redis-py (and ``meetwarden serve --redis-url``) connects with."""
        return f"unix://{self.socket}"

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def answers(self) -> bool:
        """Whether the server answers PING."""
        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1.0)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False


def _binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "redis-server is not installed, and the cluster tests run against a real Redis: "
            "run the test command from the README (`make test`), which installs the Debian "
            "package redis-server, or `apt-get install redis-server`."
        )
    return found


def start_redis() -> RedisServer:
    """Start redis-server in a new temporary directory; return once it answers PING."""
    binary = _binary()
    directory = Path(tempfile.mkdtemp(prefix="meetwarden-redis-"))
    arguments = [
        binary,
        *("--port", "0"),
        *("--unixsocket", str(directory / "redis.sock"), "--unixsocketperm", "700"),
        *("--dir", str(directory), "--save", "", "--appendonly", "no"),
        *("--daemonize", "no", "--logfile", str(directory / "log")),
    ]
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL)
    server = RedisServer(process, directory)
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.answers():
        if process.poll() is not None or time.monotonic() > deadline:
            log = server.log()
            stop_redis(server)
            pytest.fail(f"redis-server did not start (exit {process.returncode}):\n{log}")
        time.sleep(_POLL_INTERVAL)  # the pause between two readiness probes
    return server


def stop_redis(server: RedisServer) -> None:
    """Stop the server (if it runs) and delete its directory."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis server for the session, started on first use."""
    server = start_redis()
    yield server
    stop_redis(server)


@pytest.fixture
def redis_namespace(redis_server: RedisServer) -> str:
    """A key namespace of this test's own on the shared server."""
    return f"test-{uuid.uuid4().hex[:12]}"
