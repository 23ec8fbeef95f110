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
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from .connection import connect
from .nodes import NodeLoad
from .placement import NoNodeAvailableError, Placement
from .registry import NodeRegistry

__all__ = ["ClusterMember", "ClusterUnavailableError"]

log = logging.getLogger("meetwarden.cluster")
_PLACE_TRIES = 3


class ClusterUnavailableError(Exception):
    """The cluster cannot say where a meeting is: Redis is unreachable, or no live node
    takes meetings. ``str(error)`` says which."""


class ClusterMember:
    def __init__(
        self, redis_url: str, node_id: str, address: str, load: Callable[[], NodeLoad]
    ) -> None:
        self.node_id = node_id
        self.address = address
        self.client = connect(redis_url)
        self.nodes = NodeRegistry(
            self.client, node_id, public_url=address, address=address, load=load
        )
        self.placement = Placement(self.client)

    async def start(self) -> None:
        await self.nodes.start()
        log.info("node %s joined the cluster at %s", self.node_id, self.address)

    async def locate(self, meeting_id: str) -> str | None:
        """None if this node holds ``meeting_id`` (placing it here if it is nobody's),
        else the base URL of the node that does."""
        try:
            for _ in range(_PLACE_TRIES):
                claim = await self.placement.place(meeting_id)
                if claim.node_id == self.node_id:
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

    async def release(self, meeting_id: str) -> None:
        """This node no longer holds ``meeting_id``."""
        try:
            await self.placement.release(meeting_id, self.node_id)
        except (RedisError, OSError) as error:  # its claim dies with this node's entry
            log.warning("could not release meeting %s: %s", meeting_id[:8], error)

    async def drain(self) -> None:
        await self.nodes.set_draining(True)
        log.info("node %s is draining: no new meetings here", self.node_id)

    async def stop(self) -> None:
        try:
            await self.nodes.stop(deregister=True)
        except (RedisError, OSError) as error:
            log.warning("could not leave the cluster cleanly: %s", error)
        await self.client.aclose()
