"""A Redis client for the cluster, from a ``--redis-url``."""

from __future__ import annotations

import redis.asyncio as aioredis

__all__ = ["connect"]

# A command that takes longer than this fails, rather than stalling a heartbeat
# or a join behind a Redis that stopped answering.
_SOCKET_TIMEOUT = 5.0


def connect(url: str, *, socket_timeout: float = _SOCKET_TIMEOUT) -> aioredis.Redis:
    """A redis-py asyncio client for ``url`` (redis://, rediss:// or unix://), answering str.

    It connects on first use; ``await client.aclose()`` closes its connections.
    """
    client: aioredis.Redis = aioredis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        health_check_interval=30,
    )
    return client
