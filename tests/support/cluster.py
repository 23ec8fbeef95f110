"""Two meetwarden nodes on one real PostgreSQL and one real Redis, for the multi-node tests.

Each node is `meetwarden serve --redis-url ... --node-id ... --node-address ...`
in its own process, with its own data directory. A node's address is given
before it starts, so its port is chosen here (bound and released: the kernel
does not hand it out again at once).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cutting_proxy import CuttingProxy
from .postgres import PostgresServer
from .redis import RedisServer, start_redis, stop_redis
from .server import RunningServer

__all__ = ["TEST_HEARTBEAT", "Cluster", "cluster", "running_cluster", "through_proxies"]

TEST_HEARTBEAT = 1.0
"""Seconds between the test nodes' heartbeats (``serve --heartbeat``)."""


def node_arguments(name: str, port: int, redis_url: str) -> list[str]:
    """The `serve` options of a test node called ``name`` listening on ``port``."""
    return [
        *("--redis-url", redis_url),
        *("--node-id", name),
        *("--node-address", f"http://127.0.0.1:{port}"),
        # A dead node's meetings move after 3 s instead of 6.
        *("--heartbeat", str(TEST_HEARTBEAT)),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    nodes: list[RunningServer]
    database_url: str
    redis: RedisServer
    names: list[str]
    """Each node's --node-id, in the order of ``nodes``."""

    async def holder_of(self, meeting_id: str) -> RunningServer:
        """The node Redis says holds the meeting (it must be placed)."""
        from meetwarden.server.cluster import Placement, connect

        client = connect(self.redis.url)
        try:
            claim = await Placement(client).lookup(meeting_id)
        finally:
            await client.aclose()
        assert claim is not None, f"meeting {meeting_id} is not placed"
        return self.nodes[self.names.index(claim.node_id)]

    def node(self, url: str) -> RunningServer:
        """The node at ``url`` (a client's ``server``, say)."""
        return next(node for node in self.nodes if node.url == url.rstrip("/"))

    def other(self, url: str) -> RunningServer:
        return next(node for node in self.nodes if node.url != url.rstrip("/"))

    async def stored(
        self, meeting_id: str, holds: Callable[[dict[str, dict[str, Any]]], bool]
    ) -> None:
        """Until the meeting's stored places (person id -> place) satisfy ``holds``.

        A node stores them within 0.2 s of a decision (server/runtime/places.py): a
        node killed sooner loses that much, which the tests that kill one wait out.
        """
        import asyncpg

        dsn = self.database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        try:
            for _ in range(200):
                document = await connection.fetchval(
                    "SELECT document FROM room_states WHERE meeting_id = $1", meeting_id
                )
                people = json.loads(document)["people"] if document else []
                if holds({person["id"]: person for person in people}):
                    return
                await asyncio.sleep(0.05)  # polled: the store has no event to wait on
        finally:
            await connection.close()
        raise AssertionError("the meeting's places were not stored as expected within 10 s")


def through_proxies(
    directory: Path, proxies: dict[str, CuttingProxy]
) -> Callable[[RedisServer], dict[str, str]]:
    """``redis_urls`` for ``running_cluster``: each node reaches Redis through a proxy of its
    own that can cut it off (``proxies``, filled by node name once Redis runs; the caller
    stops them after the cluster)."""

    def urls(redis: RedisServer) -> dict[str, str]:
        for name in ("north", "south"):
            proxies[name] = CuttingProxy(directory / f"{name}-redis.sock", redis.socket).start()
        return {name: proxy.url for name, proxy in proxies.items()}

    return urls


@contextmanager
def running_cluster(
    directory: Path,
    postgres: PostgresServer,
    *,
    account: tuple[str, str] | None = None,
    redis_urls: Callable[[RedisServer], dict[str, str]] | None = None,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """Two started nodes, north and south; their last log lines are printed at the end
    (pytest shows them when a test fails). ``redis_urls`` gives nodes another way to
    the Redis (a proxy that can cut one off): node name -> URL, made once Redis runs.
    ``extra_args``: more `serve` options, the same for both nodes (``--edge-after 1``);
    ``env``: more environment, the same for both."""
    redis = start_redis()
    database_url = postgres.new_database()
    nodes: list[RunningServer] = []
    ways = redis_urls(redis) if redis_urls is not None else {}
    try:
        for name in ("north", "south"):
            port = free_port()
            node = RunningServer(
                directory / name,
                database_url=database_url,
                port=port,
                env=dict(env or {}),
                extra_args=[
                    *node_arguments(name, port, ways.get(name, redis.url)),
                    *("--drain-timeout", "120"),
                    *(extra_args or []),
                ],
            )
            if nodes:  # one database: the first node's key opens every node
                node.api_key = nodes[0].api_key
            elif account is not None:  # made once
                node.create_account(*account)
            node.launch()  # the first node's key made, the database is migrated
            nodes.append(node)
        for node in nodes:  # started side by side
            node.ready()
        yield Cluster(nodes, database_url, redis, ["north", "south"])
    finally:
        for node in nodes:
            node.stop()
            print(f"--- {node.url}\n" + "".join(node.log[-200:]))
        stop_redis(redis)


@pytest.fixture
def cluster(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Cluster]:
    """Two nodes for one test (import it, with ``postgres_server``, into the test module)."""
    with running_cluster(tmp_path, postgres_server) as running:
        yield running
