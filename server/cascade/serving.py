"""Edge viewers as the node they joined at (B) serves them: their socket here, their
meeting's Room on another node (A).

When a join reaches this node for a meeting another node holds (``ws.py`` catches
``MeetingElsewhereError``), B asks the holder (``edge_join``); A answers
``edge_moved`` (the person goes to A, as without cascading) or takes the person as
an edge viewer (``holding.py``). From then on:

- every request the socket reads (checked and rate-limited as on any socket) goes
  to A as it is (``edge_in``), but media: subscribing is served here, from this
  node's media room of the meeting (``edge_media.py``), and publishing is refused
  with the reason code ``edge_receive_only`` (an edge viewer only receives);
- everything A sends them (``edge_batch``) goes to the socket as it is, in order;
  B reads three of those messages for their media side only: ``welcome`` (who they
  are), ``admitted`` (they may subscribe here) and ``back_to_waiting_room`` (their
  media ends); the end of their session at A closes the socket with A's code;
- a socket that ends without a goodbye is told to A (``edge_gone``): the person is
  away and may resume, as decided at A;
- A gone (its node entry expired, or a request that no node heard): the viewer is
  told and the socket closes with 1012, from which clients resume the normal way
  (the meeting is placed anew, the resume token is checked there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket

from meetwarden import protocol as wire

from ..cluster.envelope import Message
from ..i18n import pick_language, say
from ..media import MediaError, MediaPlane
from ..runtime.interpreter import offer_message
from ..runtime.session import Session
from ..ws import Throttle
from .edge_media import EdgeMeeting
from .hub import Bus
from .sentences import NODE_GONE, RECEIVE_ONLY

__all__ = ["EdgeServing"]

log = logging.getLogger("meetwarden.cascade")
ANSWER_SECONDS = 15.0
"""How long B waits for the holder's answer to a join (A's own join may read the store)."""
_LOCAL_MEDIA = wire.Subscribe | wire.SubscribeAnswer | wire.TileSize
_NOT_HERE = wire.Publish | wire.StopPublish


@dataclass(eq=False)
class _Viewer:
    session_id: str
    meeting_id: str
    session: Session
    holder: str = ""
    holder_host: str = ""
    answer: asyncio.Future[tuple[str, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    closed_by_holder: bool = False


class EdgeServing:
    """B's side: edge viewers' sockets, and the media rooms of their meetings."""

    def __init__(self, bus: Bus, plane: MediaPlane | None, host: str, watch: Any) -> None:
        self._bus = bus
        self._plane = plane
        self._host = host
        self._watch = watch
        self._viewers: dict[str, _Viewer] = {}
        self.meetings: dict[str, EdgeMeeting] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._received: dict[str, int] = {}
        """The number of the last batch received from each holder (``links.py``)."""
        self.draining = False
        """Set when this node drains: joins go to the meeting's node, those here stay."""
        self._empty = asyncio.Event()
        """Set when the last edge viewer here is gone."""

    # --- the socket -------------------------------------------------------------------

    async def serve(
        self, websocket: WebSocket, meeting_id: str, join: wire.Join, client: str, reader: Any
    ) -> bool:
        """Serve this join as an edge viewer if the holder takes it; False: send the person
        to the holder instead (nothing was sent on the socket)."""
        if self._plane is None or self.draining:
            return False  # a draining node takes no new edge viewer (server/draining.py)
        language = pick_language(join.language)
        session = Session("", device_id="", device_token="", language=language)
        viewer = _Viewer(secrets.token_urlsafe(12), meeting_id, session)
        self._viewers[viewer.session_id] = viewer
        writer: asyncio.Task[None] | None = None
        try:
            body = {"op": "edge_join", "session": viewer.session_id, "client": client}
            body["join"] = join.model_dump(mode="json", exclude_none=True)
            holder = await self._bus.to_meeting(meeting_id, body)
            if holder is None:
                return False
            viewer.holder = viewer.holder or holder  # (its answer may have come first)
            self._watch(viewer.holder)
            try:
                verdict, server = await asyncio.wait_for(viewer.answer, ANSWER_SECONDS)
            except TimeoutError:
                await websocket.close(wire.CLOSE_TRY_AGAIN_LATER, "the meeting did not answer")
                return True
            if verdict == "gone":
                await websocket.close(wire.CLOSE_SERVICE_RESTART, "reconnect: the meeting moved")
                return True
            if verdict == "moved":
                await websocket.send_text(wire.encode(wire.Moved(server=server)))
                await websocket.close(wire.CLOSE_MOVED, "the meeting is on another node")
                return True
            writer = asyncio.create_task(_write(websocket, session))
            reader.reply, reader.before_join = session.send, False
            await self._relay(viewer, reader)
            return True
        finally:
            await self._finish(viewer, writer)

    async def _relay(self, viewer: _Viewer, reader: Any) -> None:
        session = viewer.session
        throttle = Throttle(session)  # never a host: host links are sent to the holder
        while not session.closing:
            message = await reader.next()
            if message is None or session.closing:
                return
            if not throttle.allows():
                continue
            if isinstance(message, _LOCAL_MEDIA | _NOT_HERE):
                await self._media(viewer, message)
                continue
            body = {"op": "edge_in", "session": viewer.session_id, "text": wire.encode(message)}
            if not await self._bus.to_node(viewer.holder, body, viewer.meeting_id):
                self._holder_lost(viewer)
                return
            if isinstance(message, wire.Leave):
                viewer.closed_by_holder = True  # A ends the session; nothing to tell it
                return

    async def _media(self, viewer: _Viewer, message: Any) -> None:
        session = viewer.session
        me = session.participant_id
        meeting = self.meetings.get(viewer.meeting_id)
        try:
            if isinstance(message, _NOT_HERE):
                said = say(session.language, RECEIVE_ONLY)
                session.send(wire.Error(ref=message.id, code="edge_receive_only", message=said))
                return
            if meeting is None or me not in meeting.viewers:
                raise MediaError("not_admitted", "")
            media = meeting.media
            match message:
                case wire.Subscribe():
                    session.send(offer_message(await media.subscribe(me), ref=message.id))
                case wire.SubscribeAnswer(sdp=sdp):
                    await media.subscriber_answer(me, sdp)
                case wire.TileSize(participant=publisher, source=source):
                    media.set_tile_size(me, publisher, source, message.width, message.height)
        except MediaError as error:
            said = say(
                session.language,
                "You are in the waiting room; media starts once the host lets you in.",
            )
            text = said if error.code == "not_admitted" else error.message
            session.send(wire.Error(ref=message.id, code=error.code, message=text))

    async def _finish(self, viewer: _Viewer, writer: asyncio.Task[None] | None) -> None:
        self._viewers.pop(viewer.session_id, None)
        if not self._viewers:
            self._empty.set()
        if viewer.holder and viewer.answer.done() and not viewer.closed_by_holder:
            body = {"op": "edge_gone", "session": viewer.session_id}
            await self._bus.to_node(viewer.holder, body, viewer.meeting_id)
        self._media_ends(viewer)
        viewer.session.close(wire.CLOSE_NORMAL, "bye")
        if writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 5)

    def _media_ends(self, viewer: _Viewer) -> None:
        meeting = self.meetings.get(viewer.meeting_id)
        me = viewer.session.participant_id
        if meeting is None or meeting.viewers.get(me) is not viewer.session:
            return
        meeting.leave(me)
        if not meeting.viewers:
            del self.meetings[viewer.meeting_id]
            self._close_later(meeting, tell_holder=True)

    # --- from A -----------------------------------------------------------------------

    def _viewer(self, message: Message) -> _Viewer | None:
        return self._of_holder(self._viewers.get(str(message.body.get("session"))), message)

    @staticmethod
    def _of_holder(viewer: _Viewer | None, message: Message) -> _Viewer | None:
        """The viewer, if ``message`` comes from the node that holds their session. A's
        answer may arrive before ``send_to_meeting`` returned its id (the reply to the
        PUBLISH and the message come on two connections): the first node to answer a
        join (named by its secret session id) is the holder."""
        if viewer is None:
            return None
        if not viewer.holder:
            viewer.holder = message.sender
        return viewer if viewer.holder == message.sender else None

    async def accepted(self, message: Message) -> None:
        """``edge_accepted``: A holds the person; its pipes come from ``pipe_host``."""
        viewer = self._viewer(message)
        if viewer is not None and not viewer.answer.done():
            viewer.holder_host = str(message.body.get("pipe_host") or "")
            viewer.answer.set_result(("accepted", ""))

    async def moved(self, message: Message) -> None:
        """``edge_moved``: A sends the person to itself (or wherever the meeting is now)."""
        viewer = self._viewer(message)
        server = message.body.get("server")
        if viewer is not None and not viewer.answer.done() and isinstance(server, str):
            viewer.answer.set_result(("moved", server))

    async def out(self, message: Message) -> None:
        """``edge_out``: what A answers a join it refused, before its ``edge_close``."""
        viewer = self._viewer(message)
        texts = message.body.get("texts")
        if viewer is not None and isinstance(texts, list):
            for text in texts:
                if isinstance(text, str):
                    self._deliver(viewer, text)

    async def closed(self, message: Message) -> None:
        """``edge_close``: A ended the person's session before it began (a refused join)."""
        viewer = self._viewer(message)
        if viewer is not None:
            self._close(viewer, message.body.get("code"), message.body.get("reason"))

    async def batch(self, message: Message) -> None:
        """``edge_batch``: what A sends its viewers here, in order (cascade/links.py)."""
        texts, items = message.body.get("texts"), message.body.get("items")
        if not isinstance(texts, list) or not isinstance(items, list):
            return
        number, last = message.body.get("seq"), self._received.get(message.sender)
        if isinstance(number, int):
            self._received[message.sender] = number
            if last is not None and number != last + 1:
                log.warning("cascade: batches %s to %s from %s lost", last + 1, number - 1,
                            message.sender)  # fmt: skip
                self._resync(message.sender)
        for item in items:
            found = self._viewers.get(str(item.get("s"))) if isinstance(item, dict) else None
            viewer = self._of_holder(found, message)
            if viewer is None:
                continue  # gone here meanwhile
            close = item.get("close")
            if isinstance(close, list) and len(close) == 2:
                self._close(viewer, close[0], close[1])
                continue
            for index in item.get("t") or ():
                if isinstance(index, int) and 0 <= index < len(texts):
                    self._deliver(viewer, str(texts[index]))

    def _deliver(self, viewer: _Viewer, text: str) -> None:
        if not viewer.answer.done():  # a refused join: its answer, then the close
            viewer.answer.set_result(("accepted", ""))
        self._media_side(viewer, text)
        viewer.session.send_text(text)

    def _close(self, viewer: _Viewer, code: Any, reason: Any) -> None:
        if not viewer.answer.done():
            viewer.answer.set_result(("accepted", ""))
        viewer.closed_by_holder = True
        self._media_ends(viewer)
        viewer.session.close(
            code if isinstance(code, int) else wire.CLOSE_NORMAL, str(reason or "")
        )

    async def pipe_closed(self, message: Message) -> None:
        """``pipe_closed``: A could not pipe (its media of the meeting ended)."""
        log.info("cascade: %s closed pipe %s", message.sender, message.body.get("pipe"))

    def _media_side(self, viewer: _Viewer, text: str) -> None:
        """What of A's message is for this node's media: who they are, admitted or not."""
        if not any(kind in text for kind in ('"welcome"', '"admitted"', '"back_to_waiting')):
            return
        try:
            data = json.loads(text)
        except ValueError:
            return
        kind = data.get("type") if isinstance(data, dict) else None
        session = viewer.session
        if kind == "welcome" and isinstance(data.get("participant_id"), str):
            session.participant_id = data["participant_id"]
        elif kind == "admitted" and session.participant_id and self._plane is not None:
            meeting = self.meetings.get(viewer.meeting_id)
            if meeting is None:
                meeting = EdgeMeeting(
                    viewer.meeting_id,
                    viewer.holder,
                    plane=self._plane,
                    bus=self._bus,
                    host=self._host,
                    holder_host=viewer.holder_host,
                )
                self.meetings[viewer.meeting_id] = meeting
            meeting.admit(session.participant_id, session)
        elif kind == "back_to_waiting_room":
            self._media_ends(viewer)

    # --- the holder gone ----------------------------------------------------------------

    def _holder_lost(self, viewer: _Viewer) -> None:
        viewer.closed_by_holder = True
        session = viewer.session
        session.send(wire.Error(code="node_gone", message=say(session.language, NODE_GONE)))
        session.close(wire.CLOSE_SERVICE_RESTART, "reconnect: the meeting's node is gone")

    def _resync(self, holder: str) -> None:
        """Messages of ``holder`` were lost: its viewers here reconnect (1012) and get its
        state afresh; A keeps their places (their sessions end as lost connections)."""
        for viewer in [v for v in self._viewers.values() if v.holder == holder]:
            if viewer.answer.done():
                viewer.session.close(wire.CLOSE_SERVICE_RESTART, "reconnect: messages were lost")

    def node_gone(self, node_id: str) -> None:
        for viewer in [v for v in self._viewers.values() if v.holder == node_id]:
            if not viewer.answer.done():
                viewer.answer.set_result(("gone", ""))
            self._holder_lost(viewer)
        self._received.pop(node_id, None)
        for meeting_id, meeting in list(self.meetings.items()):
            if meeting.holder == node_id:
                del self.meetings[meeting_id]
                self._close_later(meeting, tell_holder=False)

    def _close_later(self, meeting: EdgeMeeting, *, tell_holder: bool) -> None:
        task = asyncio.ensure_future(meeting.close(tell_holder=tell_holder))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for viewer in list(self._viewers.values()):
            viewer.session.close(wire.CLOSE_SERVICE_RESTART, "server stopping")
        for meeting in list(self.meetings.values()):
            await meeting.close()
        self.meetings.clear()

    def count(self) -> int:
        return len(self._viewers)

    def holders(self) -> set[str]:
        """The nodes holding the meetings of the edge viewers here."""
        return {viewer.holder for viewer in self._viewers.values() if viewer.holder}

    def move_away(self, servers: dict[str, str]) -> int:
        """Sends each edge viewer here to the node that holds their meeting (``servers``:
        node id -> its public URL), as this node stops: they are told ``moved`` and their
        socket closes with CLOSE_MOVED; the SDK and the page resume there, where their
        place is kept (the socket here ended without a goodbye). How many were sent."""
        sent = 0
        for viewer in list(self._viewers.values()):
            server = servers.get(viewer.holder)
            if not server or not viewer.answer.done() or viewer.session.closing:
                continue
            viewer.session.send(wire.Moved(server=server))
            viewer.session.close(wire.CLOSE_MOVED, "the meeting is on another node")
            sent += 1
        return sent

    async def emptied(self, timeout: float) -> bool:
        """Waits until no edge viewer is left here (at most ``timeout`` s): True if none is."""
        if not self._viewers:
            return True
        self._empty.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), timeout)
        return not self._viewers


async def _write(websocket: WebSocket, session: Session) -> None:
    with contextlib.suppress(Exception):
        while True:
            text = await session.outbox.get()
            if text is None:
                await websocket.close(session.close_code or wire.CLOSE_NORMAL, session.close_reason)
                return
            await websocket.send_text(text)
