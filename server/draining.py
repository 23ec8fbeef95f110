"""Draining a node for maintenance: no new meetings, the running ones left to end.

The first SIGTERM or SIGINT of a node of several (``--redis-url``) marks it
draining in the cluster, so meetings are placed on other nodes from then on,
and keeps serving the meetings it holds until nobody is in them, or until
``--drain-timeout``; then the node stops as one node does (everyone's place
stored, sockets closed with 1012), its meetings are released, and whoever is
still in one resumes it on the node that takes it over. A second signal stops
at once. LiveKit's nodes drain the same way on SIGTERM.

Edge viewers (``cascade/serving.py``: people served here in a meeting another
node holds) count as people in this node's meetings: the node keeps serving them
until they leave, and a join that would make a new one is sent to the meeting's
node instead, as without cascading. Those still here at ``--drain-timeout`` are
sent to the meeting's node (``moved``) before the node stops: their link may name
this node, which would no longer answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from .cluster.member import ClusterMember
from .runtime.registry import Registry

__all__ = ["CHECK_SECONDS", "MOVE_SECONDS", "EdgeViewers", "drain_then_stop"]

log = logging.getLogger("meetwarden.cluster")
CHECK_SECONDS = 1.0
"""How often a draining node looks whether its meetings are empty."""
MOVE_SECONDS = 5.0
"""How long a node that stops gives its edge viewers to be told where to go."""


class EdgeViewers(Protocol):
    """The node's edge viewers (``cascade.serving.EdgeServing``)."""

    draining: bool

    def count(self) -> int: ...

    def holders(self) -> set[str]: ...

    def move_away(self, servers: dict[str, str]) -> int: ...

    async def emptied(self, timeout: float) -> bool: ...


async def drain_then_stop(
    member: ClusterMember,
    registry: Registry,
    timeout: float,
    stop: Callable[[], None],
    edges: EdgeViewers | None = None,
) -> None:
    """Drains, waits for the meetings and the edge viewers to empty (or ``timeout``),
    then calls ``stop``."""
    try:
        await member.drain()
        if edges is not None:
            edges.draining = True  # new edge viewers go to the meeting's node
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(room.sessions for room in registry.live()) or (
            edges is not None and edges.count() > 0
        ):
            if loop.time() >= deadline:
                log.info("drain timeout: stopping; the people still here move to other nodes")
                if edges is not None and edges.count() > 0:
                    await _move_edge_viewers(member, edges)
                break
            await asyncio.sleep(CHECK_SECONDS)  # polled: the Rooms have no "empty" event
        else:
            log.info("drained: no one is left in this node's meetings or edge viewers; stopping")
    except Exception:  # a drain that fails still stops the node, as asked
        log.exception("draining failed; stopping")
    finally:
        stop()


async def _move_edge_viewers(member: ClusterMember, edges: EdgeViewers) -> None:
    """Sends the edge viewers still here to their meetings' nodes, and waits (a little)
    until their sockets have closed."""
    servers: dict[str, str] = {}
    for node_id in edges.holders():
        node = await member.nodes.get(node_id)
        url = (node.public_url or node.address) if node is not None else None
        if url:
            servers[node_id] = url
    moved = edges.move_away(servers)
    gone = await edges.emptied(MOVE_SECONDS)
    log.info(
        "drain timeout: %d edge viewers sent to their meetings' nodes%s",
        moved,
        "" if gone else " (some still here: closed as the node stops)",
    )
