"""In-process cluster nodes for tests/cluster: each with its own Redis connections,
registry, placement and bus (support/cluster.py starts whole server processes instead).

Nodes here are in-process (one event loop) but share nothing but the real
redis-server, as separate processes would: each has its own client (its own
connections), so what one node knows, the others learn through Redis only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from meetwarden.server.cluster import (
    Keys,
    Message,
    MessageBus,
    NodeLoad,
    NodeRegistry,
    Placement,
    connect,
)

__all__ = ["HEARTBEAT", "SHORT_HEARTBEAT", "Node", "Nodes", "eventually"]

HEARTBEAT = 1.0
"""Seconds between two heartbeats of a node that a test keeps alive: its entry outlives a
stalled event loop (many concurrent placements on a loaded machine) by 3 s."""
SHORT_HEARTBEAT = 0.5
"""Seconds between two heartbeats of a node that a test will stop: it is seen dead 1.5 s
after its last heartbeat."""


async def eventually(
    condition: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = ""
) -> None:
    """Waits until ``await condition()`` holds; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or condition}")
        await asyncio.sleep(0.01)  # polling Redis: an expiry raises no event here


@dataclass
class Node:
    node_id: str
    client: aioredis.Redis
    registry: NodeRegistry
    placement: Placement
    bus: MessageBus
    load: NodeLoad = field(default_factory=NodeLoad)
    received: list[Message] = field(default_factory=list)

    async def received_count(self, count: int) -> bool:
        return len(self.received) >= count


class Nodes:
    """The nodes of one test, on one namespace; ``close()`` stops them all."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.keys = Keys(namespace)
        self.started: list[Node] = []

    def client(self) -> aioredis.Redis:
        return connect(self.url)

    async def add(
        self,
        node_id: str,
        load: NodeLoad | None = None,
        *,
        heartbeat: bool = True,
        listen: bool = False,
        interval: float = HEARTBEAT,
    ) -> Node:
        """A registered node (heartbeating unless told not to), listening on the bus if asked."""
        client = self.client()

        async def handler(message: Message) -> None:
            node.received.append(message)

        registry = NodeRegistry(
            client,
            node_id,
            public_url=f"https://{node_id}.example.org",
            address=f"http://{node_id}.internal:8000",
            keys=self.keys,
            interval=interval,
            load=lambda: node.load,  # read at each heartbeat: a test changes node.load
        )
        placement = Placement(client, self.keys)
        bus = MessageBus(client, node_id, handler, keys=self.keys, placement=placement)
        node = Node(node_id, client, registry, placement, bus, load or NodeLoad())
        self.started.append(node)
        if heartbeat:
            await registry.start()
        else:
            await registry.register()
        if listen:
            await node.bus.start()
        return node

    async def close(self) -> None:
        for node in self.started:
            await node.bus.stop()
            await node.registry.stop(deregister=False)
            await node.client.aclose()
