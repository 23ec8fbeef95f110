"""Edge viewers as the meeting's node (A) holds them: a socket that is on another node.

B relays an edge viewer's socket over the bus (``serving.py``): their join
(``edge_join``), each request after it (``edge_in``) and the end of the socket
(``edge_gone``). Here each of them is a participant like any other: the join goes
through the same checks and the same Room decision (``runtime/joining.py``), each
request through the same handler as a local socket's
(``participant_requests.handle_request``), one at a time and in order; everything
the Room sends them (its ``Session``'s outbox) goes back to B in order, and the
end of their session too, with its code (``edge_batch``: one bus message carries
what is queued for every viewer of one node, ``links.py``).
The policy, the waiting room, admission, mutes, removals and bans are A's alone:
B only applies the media side of what A tells the viewer (``serving.py``).

A join at B becomes an edge viewer only when this node already holds
``edge_after`` people of the meeting, and never with a host token (a host
publishes and acts; they are sent here): otherwise B is told ``edge_moved`` and
sends the person here, as without cascading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.capabilities import Capabilities

from ..cluster.envelope import Message
from ..cluster.member import ClusterUnavailableError
from ..files.access import FileAccess
from ..i18n import say
from ..media.events import VideoPaused
from ..participant_requests import handle_request
from ..runtime.joining import join
from ..runtime.registry import MeetingElsewhereError, Registry
from ..runtime.room import Room
from ..runtime.session import Session
from ..ws import read_frame
from .hub import Bus
from .links import NodeLinks
from .sentences import RECEIVE_ONLY

__all__ = ["EdgeHolding"]

log = logging.getLogger("meetwarden.cascade")
_MEDIA = wire.Publish | wire.Subscribe | wire.StopPublish | wire.SubscribeAnswer | wire.TileSize


@dataclass(eq=False)
class _Held:
    node: str
    session_id: str
    meeting_id: str
    room: Room
    session: Session
    inbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class EdgeHolding:
    """A's side of the edge viewers: their sessions in this node's Rooms."""

    def __init__(
        self,
        bus: Bus,
        registry: Registry,
        *,
        edge_after: int | None,
        address: str,
        pipe_host: str,
        requests: Callable[[], tuple[FileAccess, Capabilities]],
        watch: Callable[[str], None],
    ) -> None:
        self._bus = bus
        self._registry = registry
        self._edge_after = edge_after
        self._address = address
        self._pipe_host = pipe_host
        self._requests = requests
        self._watch = watch
        self._held: dict[tuple[str, str], _Held] = {}
        self._joining: set[asyncio.Task[None]] = set()
        self._links = NodeLinks(bus, self.node_gone)
        self.stopping = False
        """This node is stopping: the sessions it closes now are resumed elsewhere (1012),
        as uvicorn closes the sockets it serves itself when it stops."""

    def edges_in(self, room: Room) -> int:
        return sum(1 for held in self._held.values() if held.room is room)

    def _takes_edge(self, room: Room, message: wire.Join) -> bool:
        if self._edge_after is None or message.host_token is not None:
            return False
        return len(room.sessions) - self.edges_in(room) >= self._edge_after

    # --- from B ---------------------------------------------------------------------

    async def joined(self, message: Message) -> None:
        """``edge_join``: decided in a task of its own (a join awaits the store and argon2)."""
        task = asyncio.create_task(self._join(message))
        self._joining.add(task)
        task.add_done_callback(self._joining.discard)

    async def request(self, message: Message) -> None:
        """``edge_in``: one request of a viewer, in the order B read them."""
        session_id = str(message.body.get("session"))
        held = self._held.get((message.sender, session_id))
        text = message.body.get("text")
        if held is None:  # ended here (or this node restarted): B's socket reconnects
            body = {"op": "edge_close", "session": session_id}
            body |= {"code": wire.CLOSE_SERVICE_RESTART, "reason": "reconnect"}
            await self._bus.to_node(message.sender, body, message.meeting_id)
        elif isinstance(text, str):
            held.inbox.put_nowait(text)

    async def gone(self, message: Message) -> None:
        """``edge_gone``: the viewer's socket at B ended without a goodbye."""
        held = self._held.get((message.sender, str(message.body.get("session"))))
        if held is not None:
            held.inbox.put_nowait(None)

    async def video_paused(self, message: Message) -> None:
        """``edge_video_paused``: B paused (or resumed) a video for one of its viewers, whose
        link is too slow for it; the Room tells them, as it tells a viewer of this node."""
        body = message.body
        participant = str(body.get("participant"))
        for held in self._held.values():
            if (
                held.node == message.sender
                and held.meeting_id == message.meeting_id
                and held.session.participant_id == participant
            ):
                source = body.get("source")
                if source in ("camera", "screen"):
                    changed = VideoPaused(participant, str(body.get("about")), source,
                                          bool(body.get("paused")))  # fmt: skip
                    held.room.observe(changed)
                return

    def node_gone(self, node_id: str) -> None:
        for held in [held for held in self._held.values() if held.node == node_id]:
            held.inbox.put_nowait(None)

    # --- joining --------------------------------------------------------------------

    async def _join(self, message: Message) -> None:
        node, meeting_id = message.sender, message.meeting_id or ""
        session_id = str(message.body.get("session"))

        async def tell(op: str, **fields: Any) -> bool:
            body = {"op": op, "session": session_id, **fields}
            return await self._bus.to_node(node, body, meeting_id)

        try:
            request = wire.Join.model_validate(message.body["join"])
            client = str(message.body.get("client") or "unknown")
        except (KeyError, ValueError) as error:
            log.warning("cascade: a bad edge join from %s: %s", node, error)
            await tell("edge_close", code=wire.CLOSE_POLICY, reason="bad join")
            return
        try:
            room = await self._registry.room(meeting_id)
            if room is not None and not self._takes_edge(room, request):
                await tell("edge_moved", server=self._address)
                return
            result = await join(self._registry, meeting_id, request, client)
        except MeetingElsewhereError as elsewhere:  # placed elsewhere since B looked
            await tell("edge_moved", server=elsewhere.base_url or self._address)
            return
        except ClusterUnavailableError:
            await tell("edge_close", code=wire.CLOSE_TRY_AGAIN_LATER, reason="try again")
            return
        if result.session is None or result.room is None:
            refusal = result.refusal
            reason = refusal.reason if refusal is not None else "join_failed"
            texts = [wire.encode(refusal)] if refusal is not None else []
            await tell("edge_out", texts=texts)
            await tell("edge_close", code=wire.CLOSE_JOIN_REFUSED, reason=reason)
            return
        held = _Held(node, session_id, meeting_id, result.room, result.session)
        self._held[(node, session_id)] = held
        self._watch(node)
        await tell("edge_accepted", pipe_host=self._pipe_host)
        held.tasks = [
            asyncio.create_task(self._pump(held), name="edge pump"),
            asyncio.create_task(self._serve(held), name="edge requests"),
        ]

    # --- one viewer -----------------------------------------------------------------

    async def _pump(self, held: _Held) -> None:
        """What the Room sends the viewer, to B in order (``links.py``); the close last."""
        outbox, links = held.session.outbox, self._links
        try:
            while True:
                text = await outbox.get()
                if text is None:
                    session = held.session
                    code = wire.CLOSE_SERVICE_RESTART if self.stopping else session.close_code
                    links.close(held.node, held.session_id, code or wire.CLOSE_NORMAL,
                                session.close_reason)  # fmt: skip
                    return
                links.text(held.node, held.session_id, text)
        finally:
            held.inbox.put_nowait(None)
            self._held.pop((held.node, held.session_id), None)

    async def _serve(self, held: _Held) -> None:
        """The viewer's requests, one at a time, as a local socket's (server/ws.py)."""
        room, session = held.room, held.session
        files, capabilities = self._requests()
        try:
            while not session.closing:
                text = await held.inbox.get()
                if text is None or session.closing:
                    break
                message = read_frame(text)
                if isinstance(message, wire.Error):
                    session.send(message)
                elif isinstance(message, _MEDIA):  # B serves their media; they only receive
                    said = say(session.language, RECEIVE_ONLY)
                    ref = message.id
                    session.send(wire.Error(ref=ref, code="edge_receive_only", message=said))
                elif not await handle_request(room, session, message, files, capabilities):
                    break
        except Exception:
            log.exception("cascade: an edge viewer's request failed")
        finally:
            with contextlib.suppress(Exception):
                await room.connection_lost(session.participant_id, session)
            session.close(wire.CLOSE_NORMAL, "bye")

    async def close(self) -> None:
        for task in list(self._joining):
            task.cancel()
        tasks = [task for held in self._held.values() for task in held.tasks]
        for held in list(self._held.values()):
            held.inbox.put_nowait(None)
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await self._links.stop()

    def count(self) -> int:
        """Edge viewers held here now, of every node."""
        return len(self._held)
