"""This node as a member of a cluster: registered with its load, the meetings placed on
it, and where to send the people of a meeting another node holds.

The Room runtime asks ``locate`` before it loads a meeting (server/runtime/registry.py):
``place`` answers with the live holder, or places the meeting on the least-loaded
live node that is not draining, or takes it over from a dead holder, atomically
(placement.py). If that is this node, the meeting loads here from the shared
database, everyone's place with it; else the client is sent to the holder's
address. A meeting this node stops holding (ended, idle, the node stopping) is
released, so the next person is placed by load again.

Draining (``drain``, the first SIGTERM of ``serve``): the node takes no new
meetings and keeps those it holds until they empty, as LiveKit's nodes drain.

Cut off: a node whose heartbeats fail (Redis unreachable) for all but one beat of
its entry's lifetime gives up every meeting it holds (``on_cut_off``) before its
entry expires and another node may take them over, so that two nodes never decide
for one meeting (a lease, as in Chubby or etcd: the holder stops before the lease
can pass on). Its people reconnect and are sent to the meeting's new node. A node
whose heartbeats are only late (a busy event loop) gives its meetings up only once
its entry has really expired: until then nobody else can take them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from .connection import connect
from .nodes import NodeLoad
from .placement import NoNodeAvailableError, Placement
from .registry import NodeRegistry

__all__ = ["ClusterMember", "ClusterUnavailableError"]

log = logging.getLogger("meetwarden.cluster")
_PLACE_TRIES = 3
HEARTBEAT_SECONDS = 2.0
"""A node's heartbeat period by default (``serve --heartbeat``): its entry lives three of
them (6 s), the time a dead node's meetings wait before another node may take them
over. Long enough that a busy Python event loop, late by a second or two, is not taken
for dead."""


class ClusterUnavailableError(Exception):
    """The cluster cannot say where a meeting is: Redis is unreachable, or no live node
    takes meetings. ``str(error)`` says which."""


class ClusterMember:
    def __init__(
        self,
        redis_url: str,
        node_id: str,
        address: str,
        load: Callable[[], NodeLoad],
        on_cut_off: Callable[[], None] = lambda: None,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.node_id = node_id
        self.on_cut_off = on_cut_off
        self.cut_off = False
        self._watchdog: asyncio.Task[None] | None = None
        self.address = address
        self.client = connect(redis_url)
        self.nodes = NodeRegistry(
            self.client,
            node_id,
            public_url=address,
            address=address,
            load=load,
            interval=heartbeat,
        )
        self.placement = Placement(self.client)
        self._generations: dict[str, int] = {}

    async def start(self) -> None:
        await self.nodes.start()
        self._watchdog = asyncio.create_task(self._watch(), name="cluster watchdog")
        log.info("node %s joined the cluster at %s", self.node_id, self.address)

    async def _watch(self) -> None:
        nodes = self.nodes
        while True:
            await asyncio.sleep(nodes.interval / 2)  # the watchdog's period
            silent = time.monotonic() - nodes.registered_at
            margin = nodes.ttl - nodes.interval if nodes.failing else nodes.ttl
            if silent < margin:
                if self.cut_off:
                    log.warning("node %s reaches the cluster again", self.node_id)
                self.cut_off = False
            elif not self.cut_off:
                self.cut_off = True
                log.error(
                    "node %s has not reached Redis for %.1f s: giving up its meetings",
                    self.node_id,
                    silent,
                )
                self.on_cut_off()

    async def locate(self, meeting_id: str) -> str | None:
        """None if this node holds ``meeting_id`` (placing it here if it is nobody's),
        else the base URL of the node that does."""
        if self.cut_off:
            raise ClusterUnavailableError("this node is cut off from the cluster's Redis")
        try:
            for _ in range(_PLACE_TRIES):
                claim = await self.placement.place(meeting_id)
                if claim.node_id == self.node_id:
                    self._generations[meeting_id] = claim.generation
                    if claim.outcome == "taken_over":
                        log.info("meeting %s taken over from a dead node", meeting_id[:8])
                    return None
                holder = await self.nodes.get(claim.node_id)
                if holder is not None:
                    return holder.public_url or holder.address or ""
                # Its node died between the two reads: placing again takes it over.
        except NoNodeAvailableError:
            raise ClusterUnavailableError("no node of the cluster takes meetings now") from None
        except (RedisError, OSError) as error:
            raise ClusterUnavailableError(f"the cluster's Redis is unreachable: {error}") from None
        raise ClusterUnavailableError("the meeting's node keeps changing; try again")

    def generation_of(self, meeting_id: str) -> int | None:
        """The generation of this node's claim on a meeting ``locate`` placed here: the
        store fences the meeting's writes by it (server/store/holders.py)."""
        return self._generations.get(meeting_id)

    async def release(self, meeting_id: str) -> None:
        """This node no longer holds ``meeting_id``."""
        self._generations.pop(meeting_id, None)
        try:
            await self.placement.release(meeting_id, self.node_id)
        except (RedisError, OSError) as error:  # its claim dies with this node's entry
            log.warning("could not release meeting %s: %s", meeting_id[:8], error)

    async def drain(self) -> None:
        await self.nodes.set_draining(True)
        log.info("node %s is draining: no new meetings here", self.node_id)

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        try:
            await self.nodes.stop(deregister=True)
        except (RedisError, OSError) as error:
            log.warning("could not leave the cluster cleanly: %s", error)
        await self.client.aclose()
