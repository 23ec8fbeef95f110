"""The servers bench/cluster_load.py loads, and what they cost, read from /proc.

- **Baseline**: one `meetwarden serve --workers 1` on SQLite in a temporary directory.
- **Cluster**: ``nodes`` `meetwarden serve` processes on one PostgreSQL and one Redis
  started here (tests/support/postgres.py and redis.py; each node as in
  tests/support/cluster.py: its own data directory, port and ``--node-address``).
- **Given**: servers already running (``--servers``); their processes are found by the
  port they listen on (/proc/net/tcp and the sockets in /proc/PID/fd), when they run on
  this machine and this user may read them.

A server's cost is summed over its process and all its descendants (a node may
have children: ``--workers`` forks them): CPU is utime + stime of each live
process plus cutime + cstime (children already reaped), proc(5); memory is the
sum of VmRSS (pages shared between a parent and a forked child count twice).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.postgres import PostgresServer, start_postgres, stop_postgres
from support.redis import start_redis, stop_redis
from support.server import RunningServer

__all__ = ["Target", "Usage", "baseline", "cluster", "given", "processes", "usage"]

SERVER_ENV = {
    # Every bot comes from 127.0.0.1: far past the sockets one address may hold at
    # once (server/door.py).
    "MEETWARDEN_MAX_SOCKETS_PER_ADDRESS": "100000",
}
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    cpu_seconds: float
    rss_mib: float


@dataclass
class Target:
    """What a run loads: the servers' URLs, the key that creates meetings, the roots
    of the server process trees (and of the services they use: PostgreSQL, Redis)."""

    name: str
    urls: list[str]
    api_key: str | None
    servers: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)


def _children() -> dict[int, list[int]]:
    by_parent: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            by_parent.setdefault(parent, []).append(int(entry.name))
    return by_parent


def _tree(root: int, by_parent: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(by_parent.get(pid, []))
    return found


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / _TICK  # utime stime cutime cstime


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # a zombie has no memory


def processes(roots: list[int]) -> list[int]:
    """These processes and their descendants (a ``--workers`` server's children)."""
    by_parent = _children()
    return [pid for root in roots for pid in _tree(root, by_parent)]


def usage(roots: list[int]) -> Usage | None:
    """CPU seconds so far and resident memory now of these processes and their descendants
    (None when there is none to read)."""
    if not roots:
        return None
    by_parent = _children()
    total = Usage(0.0, 0.0)
    for root in roots:
        for pid in _tree(root, by_parent):
            with contextlib.suppress(OSError):  # a child may end while it is read
                total.cpu_seconds += _cpu(pid)
                total.rss_mib += _rss_mib(pid)
    return total


def _keep_log(server: RunningServer, logs: Path | None, name: str) -> None:
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{name}.log").write_text("".join(server.log))


def _start(server: RunningServer) -> RunningServer:
    server.start(timeout=120)
    assert server.process is not None
    return server


@contextlib.contextmanager
def baseline(directory: Path, logs: Path | None = None) -> Iterator[Target]:
    """One `meetwarden serve --workers 1` on SQLite (its log kept in ``logs``)."""
    server = RunningServer(directory / "baseline", extra_args=["--workers", "1"], env=SERVER_ENV)
    try:
        _start(server)
        assert server.process is not None
        yield Target("baseline", [server.url], server.api_key, [server.process.pid])
    finally:
        server.stop()
        _keep_log(server, logs, "baseline")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postmaster(postgres: PostgresServer) -> int:
    return int((postgres.data / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def cluster(directory: Path, nodes: int, logs: Path | None = None) -> Iterator[Target]:
    """``nodes`` nodes on a PostgreSQL and a Redis started for them (logs kept in ``logs``)."""
    postgres = start_postgres()
    redis = start_redis()
    started: list[RunningServer] = []
    try:
        database_url = postgres.new_database()
        for number in range(nodes):
            port = _free_port()
            node = RunningServer(
                directory / f"node-{number}",
                database_url=database_url,
                port=port,
                env=SERVER_ENV,
                extra_args=[
                    *("--redis-url", redis.url),
                    *("--node-id", f"node-{number}"),
                    *("--node-address", f"http://127.0.0.1:{port}"),
                    *("--drain-timeout", "30"),
                ],
            )
            # One database: the API key is made once (before the first start), valid on all.
            node.provision = not started
            started.append(_start(node))
        key = started[0].api_key
        pids = [node.process.pid for node in started if node.process is not None]
        services = [_postmaster(postgres), redis.process.pid]
        yield Target(f"{nodes} nodes", [node.url for node in started], key, pids, services)
    finally:
        for number, node in enumerate(started):
            node.stop()
            _keep_log(node, logs, f"node-{number}")
        stop_redis(redis)
        stop_postgres(postgres)


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                local, state, inode = columns[1], columns[3], columns[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(inode)
    return inodes


def _listening_on(port: int) -> int | None:
    """The process that holds the listening socket of ``port`` (the eldest, if several)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    holders = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                holders.append(int(entry.name))
    return min(holders) if holders else None


def given(urls: list[str], api_key: str | None, name: str) -> Target:
    """Servers already running; their processes when they are found on this machine."""
    pids = []
    for url in urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pid = _listening_on(port) if parts.hostname in ("127.0.0.1", "localhost") else None
        if pid is not None:
            pids.append(pid)
    return Target(name, [url.rstrip("/") for url in urls], api_key, pids)
