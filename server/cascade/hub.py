"""This node's part in cascading: the bus between nodes, and who answers which message.

A meeting lives on one node (A: its Room, its policy, its gates). With
``--edge-after N``, once A holds N people of a meeting, someone who joins it at
another node (B) stays there as an edge viewer (``serving.py``): B relays their
socket to A's Room over the cluster bus (``holding.py`` is A's side of it) and
feeds their media from one pipe per meeting that A sends every published track
through (``edge_media.py`` at B, ``feeds.py`` at A). This is mediasoup's
``pipeToRouter`` and LiveKit's relay between nodes, with the signalling carried
by the Redis pub/sub bus (server/cluster/bus.py: at most once, in order per
sender).

Every message names its ``op``; a node that dies is noticed by the other through
its node entry expiring in Redis (``PeerWatch``) or a message to it that no node
received, and whatever the two shared is closed: A's edge sessions of B are lost
connections (the person may resume), B's edge viewers of A are told to reconnect
(close 1012, which the SDK resumes from), and the pipes close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..cluster import MessageBus
from ..cluster.envelope import Message
from ..cluster.member import ClusterMember

__all__ = ["Bus", "PeerWatch", "Routes"]

log = logging.getLogger("meetwarden.cascade")

Route = Callable[[Message], Awaitable[None]]


class Routes:
    """Each op to the handler that answers it; an unknown op is logged and dropped."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def add(self, op: str, route: Route) -> None:
        self._routes[op] = route

    async def __call__(self, message: Message) -> None:
        op = message.body.get("op")
        route = self._routes.get(op) if isinstance(op, str) else None
        if route is None:
            log.warning("cascade: a message of unknown op %r from %s dropped", op, message.sender)
            return
        await route(message)


class Bus:
    """The cluster bus as cascading uses it: sends that report a node that did not hear."""

    def __init__(self, member: ClusterMember, routes: Routes) -> None:
        self.node_id = member.node_id
        self.member = member
        self._bus = MessageBus(member.client, member.node_id, routes)

    async def start(self) -> None:
        await self._bus.start()

    async def stop(self) -> None:
        await self._bus.stop()

    async def to_node(
        self, node_id: str, body: dict[str, Any], meeting_id: str | None = None
    ) -> bool:
        """Whether ``node_id`` was listening (False also when Redis could not be reached)."""
        try:
            return await self._bus.send_to_node(node_id, body, meeting_id) > 0
        except Exception as error:  # Redis away: as good as a node that did not hear
            log.warning("cascade: could not send %s to %s: %r", body.get("op"), node_id, error)
            return False

    async def to_meeting(self, meeting_id: str, body: dict[str, Any]) -> str | None:
        """The id of the node that holds the meeting and received ``body``, or None."""
        try:
            return await self._bus.send_to_meeting(meeting_id, body)
        except Exception as error:
            log.warning("cascade: could not send %s for a meeting: %r", body.get("op"), error)
            return None


class PeerWatch:
    """Calls ``on_gone(node_id)`` once for each watched node whose entry expired.

    A node's entry lives three heartbeats (``--heartbeat``, server/cluster/member.py):
    a node killed is noticed within that and half a heartbeat more."""

    def __init__(self, member: ClusterMember, on_gone: Callable[[str], None]) -> None:
        self._member = member
        self._on_gone = on_gone
        self._watched: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def watch(self, node_id: str) -> None:
        self._watched.add(node_id)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cascade peer watch")

    def forget(self, node_id: str) -> None:
        self._watched.discard(node_id)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._member.nodes.interval / 2)  # the watch's period
            for node_id in list(self._watched):
                try:
                    alive = await self._member.nodes.is_alive(node_id)
                except Exception:  # Redis away: this node's own watchdog handles that
                    continue
                if not alive and node_id in self._watched:
                    self._watched.discard(node_id)
                    log.warning("cascade: node %s is gone", node_id)
                    self._on_gone(node_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
