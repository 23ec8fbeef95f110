"""Fixtures for the cluster's tests: a real redis-server, and nodes on a namespace of their own.

The server (one per session, started on first use) comes from
``support.redis``; each test's keys live under a namespace of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.cluster_nodes import Nodes
from support.redis import RedisServer
from support.redis import redis_namespace as redis_namespace  # the fixtures, shared
from support.redis import redis_server as redis_server


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the server's loop) through anyio's pytest plugin."""
    return "asyncio"


@pytest.fixture
async def nodes(redis_server: RedisServer, redis_namespace: str) -> AsyncIterator[Nodes]:
    """The test's nodes; all stopped at the end."""
    started = Nodes(redis_server.url, redis_namespace)
    yield started
    await started.close()
