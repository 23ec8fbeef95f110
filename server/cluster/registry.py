"""The table of nodes: each registers itself with a heartbeat, and its entry expires.

LiveKit keeps its nodes in one Redis hash and judges a node alive by the age of
its last stats (pkg/routing/redisrouter.go, selector.IsAvailable). Here each
node's entry is a key of its own written with an expiry (``SET ... PX``,
https://redis.io/docs/latest/commands/set/) of ``ttl`` = 3 heartbeats: a node
that stops heartbeating (killed, frozen, cut off) vanishes from the table by
itself within ``ttl`` of its last heartbeat, with no other node having to
notice, and every script that asks "is this node alive?" asks ``EXISTS``.

A set of node ids lets the table be listed without SCAN; listing drops the ids
whose entry expired, in one script so that no live node is dropped by mistake
(a node also re-adds its id with every heartbeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .cpu import CpuMeter
from .keys import Keys
from .nodes import NodeInfo, NodeLoad, check_node_id

__all__ = ["HEARTBEATS_PER_TTL", "NodeRegistry"]

logger = logging.getLogger("meetwarden.cluster")

HEARTBEATS_PER_TTL = 3
"""A node's entry outlives its last heartbeat by this many heartbeats: one or two lost
or late heartbeats (a slow Redis, a busy event loop) do not make a node dead."""

# KEYS[1]: the set of node ids. ARGV[1]: the key prefix. The live entries, in no order;
# ids whose entry has expired are removed from the set as they are met.
_LIST_LIVE = """
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('GET', ARGV[1] .. 'node:' .. id)
  if entry then
    table.insert(live, entry)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return live
"""


class NodeRegistry:
    """This node's entry in the table, kept alive by a heartbeat task, and the others' entries.

    ``load`` is called at every heartbeat for the node's load; without it the node
    reports its CPU only.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        node_id: str,
        *,
        public_url: str | None = None,
        address: str | None = None,
        keys: Keys | None = None,
        interval: float = 1.0,
        load: Callable[[], NodeLoad] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self.client = client
        self.node_id = check_node_id(node_id)
        self.public_url = public_url
        self.address = address
        self.keys = keys or Keys()
        self.interval = interval
        self.draining = False
        self._meter = CpuMeter()
        self._load = load or (lambda: NodeLoad(cpu=self._meter.read()))
        self._list_live = client.register_script(_LIST_LIVE)
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.registered_at = 0.0
        """time.monotonic() of the last entry written (0: never)."""

    @property
    def ttl(self) -> float:
        """Seconds this node's entry outlives its last heartbeat."""
        return self.interval * HEARTBEATS_PER_TTL

    def entry(self) -> NodeInfo:
        """What the next heartbeat writes."""
        return NodeInfo(
            self.node_id,
            self.public_url,
            self.address,
            draining=self.draining,
            load=self._load(),
            updated_at=time.time(),
        )

    async def register(self) -> NodeInfo:
        """Write this node's entry now, with a fresh expiry; what was written."""
        entry = self.entry()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.node(self.node_id), entry.to_json(), px=int(self.ttl * 1000))
            pipe.sadd(self.keys.nodes, self.node_id)
            await pipe.execute()
        self.registered_at = time.monotonic()
        return entry

    async def start(self) -> None:
        """Register, then keep the entry alive every ``interval`` until ``stop``."""
        await self.register()
        if self._heartbeat is None:
            self._stopping = asyncio.Event()
            self._heartbeat = asyncio.create_task(
                self._beat(self._stopping), name=f"cluster heartbeat {self.node_id}"
            )

    async def _beat(self, stopping: asyncio.Event) -> None:
        # The loop ends when ``stopping`` is set, not only when cancelled: redis-py 8.1
        # can swallow a cancellation that lands inside a pipeline (the task then went on
        # beating and stop() waited for it forever; tests/cluster/test_registry.py).
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                # The heartbeat's period, cut short by stop().
                await asyncio.wait_for(stopping.wait(), self.interval)
            if stopping.is_set():
                return
            try:
                await self.register()
            except (RedisError, OSError) as error:
                # The next heartbeat tries again; if Redis stays away for ``ttl``, the
                # other nodes see this one as dead, which is what it is to them.
                logger.warning("cluster heartbeat of %s failed: %s", self.node_id, error)

    async def set_draining(self, draining: bool = True) -> None:
        """Take no new meetings (or take them again); written at once, not at the next beat."""
        self.draining = draining
        await self.register()

    async def stop(self, *, deregister: bool = True) -> None:
        """Stop the heartbeat and, on a clean shutdown, remove this node's entry at once.

        ``deregister=False`` leaves the entry to expire, as it does for a node that dies.
        """
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            self._stopping.set()
            task.cancel()  # an entry being written now is abandoned (or, if redis-py keeps
            with contextlib.suppress(asyncio.CancelledError):  # the cancel, finished)
                await task
        if deregister:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(self.keys.node(self.node_id))
                pipe.srem(self.keys.nodes, self.node_id)
                await pipe.execute()

    async def live_nodes(self) -> list[NodeInfo]:
        """The nodes whose heartbeat is current, sorted by id; entries that cannot be read
        are logged and left out."""
        raw = await self._list_live(keys=[self.keys.nodes], args=[self.keys.prefix])
        nodes = []
        for text in raw:
            try:
                nodes.append(NodeInfo.from_json(text))
            except ValueError as error:
                logger.warning("cluster: a node entry is unreadable: %s", error)
        return sorted(nodes, key=lambda node: node.node_id)

    async def get(self, node_id: str) -> NodeInfo | None:
        """A node's entry if it is alive, else None."""
        text = await self.client.get(self.keys.node(node_id))
        return None if text is None else NodeInfo.from_json(str(text))

    async def is_alive(self, node_id: str) -> bool:
        return bool(await self.client.exists(self.keys.node(node_id)))
