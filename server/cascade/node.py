"""The parts of cascading on one node, each op of the bus routed to the part that answers it."""

from __future__ import annotations

from collections.abc import Callable

from meetwarden.policies.capabilities import Capabilities

from ..cluster.member import ClusterMember
from ..files.access import FileAccess
from ..media import MediaPlane
from ..runtime.registry import Registry
from .feeds import PipeFeeds
from .holding import EdgeHolding
from .hub import Bus, PeerWatch, Routes
from .serving import EdgeServing

__all__ = ["Cascade"]


class Cascade:
    """A (holds meetings: ``holding``, ``feeds``) and B (serves edge viewers: ``serving``,
    None when ``edge_after`` or media is off) in one node: every node may be both."""

    def __init__(
        self,
        member: ClusterMember,
        registry: Registry,
        media: MediaPlane | None,
        *,
        address: str,
        pipe_host: str,
        edge_after: int | None,
        requests: Callable[[], tuple[FileAccess, Capabilities]],
    ) -> None:
        routes = Routes()
        self.bus = bus = Bus(member, routes)
        self.watch = PeerWatch(member, self._node_gone)
        self.feeds = PipeFeeds(bus, registry, pipe_host, self.watch.watch)
        self.holding = EdgeHolding(
            bus,
            registry,
            edge_after=edge_after,
            address=address,
            pipe_host=pipe_host,
            requests=requests,
            watch=self.watch.watch,
        )
        serving = None
        if edge_after is not None and media is not None:
            serving = EdgeServing(bus, media, pipe_host, self.watch.watch)
        self.serving = serving
        routes.add("edge_join", self.holding.joined)
        routes.add("edge_in", self.holding.request)
        routes.add("edge_gone", self.holding.gone)
        routes.add("edge_video_paused", self.holding.video_paused)
        routes.add("pipe_offer", self.feeds.offered)
        routes.add("pipe_close", self.feeds.closed)
        if serving is not None:
            routes.add("edge_accepted", serving.accepted)
            routes.add("edge_moved", serving.moved)
            routes.add("edge_out", serving.out)
            routes.add("edge_close", serving.closed)
            routes.add("edge_batch", serving.batch)
            routes.add("pipe_closed", serving.pipe_closed)

    def _node_gone(self, node_id: str) -> None:
        self.feeds.node_gone(node_id)
        self.holding.node_gone(node_id)
        if self.serving is not None:
            self.serving.node_gone(node_id)

    async def start(self) -> None:
        await self.bus.start()

    async def close_edges(self) -> None:
        """Before the Rooms close: this node's edge viewers reconnect elsewhere, and so do
        those of other nodes in the Rooms about to close."""
        self.holding.stopping = True
        if self.serving is not None:
            await self.serving.close()

    async def stop(self) -> None:
        """After the Rooms closed (their edge sessions told B)."""
        await self.holding.close()
        await self.watch.stop()
        await self.bus.stop()
