"""The pipes this node sends a meeting's tracks through, to nodes with its edge viewers (A).

B opens the receiving end (``MediaRoom.open_pipe``) and sends its offer, ``pipe_offer``;
A pipes every published track of the meeting that can be piped, now and as they are
published (``MediaRoom.pipe_all_to``), from its address on the network between nodes.
A track that ends stops being piped; a gate that closes stops it at A for B too
(server/media/pipe_sender.py). ``pipe_close`` from B, B gone, or the meeting's media
ending at A close the pipe (B's remote tracks end at once: the pipe says ``bye``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..cluster.envelope import Message
from ..media import MediaError, MediaRoom
from ..media.pipe_wire import PipeOffer
from ..runtime.registry import Registry
from .hub import Bus

__all__ = ["PipeFeeds"]

log = logging.getLogger("meetwarden.cascade")


class PipeFeeds:
    """A's side of the pipes: opened on B's offer, closed by B, by B's end, or with the room."""

    def __init__(
        self, bus: Bus, registry: Registry, host: str, watch: Callable[[str], None]
    ) -> None:
        self._bus = bus
        self._registry = registry
        self._host = host
        self._watch = watch
        self._pipes: dict[str, tuple[str, str]] = {}
        """pipe id -> (the node it sends to, meeting id)."""

    def _media(self, meeting_id: str | None) -> MediaRoom | None:
        room = self._registry.held(meeting_id) if meeting_id else None
        media = room.media if room is not None else None
        return media if isinstance(media, MediaRoom) and not media.closed else None

    async def offered(self, message: Message) -> None:
        """``pipe_offer``: B listens for the meeting's tracks at the offer's address."""
        meeting_id = message.meeting_id or ""
        try:
            offer = PipeOffer.from_json(message.body["offer"])
        except (KeyError, TypeError, ValueError) as error:
            log.warning("cascade: a bad pipe offer from %s: %s", message.sender, error)
            return
        media = self._media(meeting_id)
        try:
            if media is None:
                raise MediaError("closed", "This meeting's media is not on this node.")
            piped = await media.pipe_all_to(offer, host=self._host)
        except (MediaError, OSError) as error:
            log.warning("cascade: no pipe to %s: %s", message.sender, error)
            body = {"op": "pipe_closed", "pipe": offer.pipe_id}
            await self._bus.to_node(message.sender, body, meeting_id)
            return
        self._pipes[offer.pipe_id] = (message.sender, meeting_id)
        self._watch(message.sender)
        log.info("cascade: piping %d tracks to %s (pipe %s)", piped, message.sender, offer.pipe_id)

    async def closed(self, message: Message) -> None:
        """``pipe_close``: B needs the pipe no more."""
        pipe_id = message.body.get("pipe")
        if isinstance(pipe_id, str) and self._pipes.get(pipe_id, ("",))[0] == message.sender:
            self._close(pipe_id)

    def node_gone(self, node_id: str) -> None:
        for pipe_id in [pipe for pipe, (node, _) in self._pipes.items() if node == node_id]:
            self._close(pipe_id)

    def _close(self, pipe_id: str) -> None:
        node_id, meeting_id = self._pipes.pop(pipe_id)
        media = self._media(meeting_id)
        if media is not None:
            media.close_pipe(pipe_id)
        log.info("cascade: pipe %s to %s closed", pipe_id, node_id)

    def count(self) -> int:
        """Pipes this node sends through now (for the tests and /metrics)."""
        return len(self._pipes)
