"""The participant WebSocket: one socket per participant, hardened against bad input.

Every message is size-capped (well under a megabyte), parsed strictly
(duplicate keys refused: Jitsi JSA-2023-0001 forwarded the type a second key
named), validated against the wire protocol, and rate-limited. Bad input gets
an ``error`` with a stable code, or a close code when it persists; never a
traceback, never an effect on another meeting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from meetwarden import protocol as wire
from meetwarden.policies.errors import PolicyError
from meetwarden.policies.jsonload import parse_json

from .cluster.member import ClusterUnavailableError
from .frame_writer import FrameWriter
from .i18n import Language, from_accept_language, reason_text, say
from .participant_requests import handle_request
from .ratelimit import TokenBucket
from .runtime.joining import join
from .runtime.registry import MeetingElsewhereError, Registry
from .runtime.room import Room, RoomClosedError
from .runtime.session import Session
from .socket_slots import SLOT_KEY, TOO_MANY_SOCKETS, too_many_sockets

__all__ = ["MEETING_SOCKET", "Throttle", "read_frame", "router"]

log = logging.getLogger("meetwarden.ws")
router = APIRouter()

JOIN_TIMEOUT = 15.0
JOIN_TIMEOUT_ENV = "MEETWARDEN_JOIN_TIMEOUT"  # seconds; lets a test see the close in 1 s
MAX_DEPTH = 16
MALFORMED_LIMIT = 20
RATE, BURST = 10.0, 40.0
FLOOD_LIMIT = 200  # refused messages before the socket is closed


class Throttle:
    """How fast one participant's socket may send: a message past the rate is answered
    ``rate_limited`` and dropped, and past ``FLOOD_LIMIT`` of those the socket closes.
    Hosts admit, mute and grant in bursts: they get three times the rate."""

    def __init__(self, session: Session, *, hosting: bool = False) -> None:
        scale = 3 if hosting else 1
        self._session, self._bucket = session, TokenBucket(RATE * scale, BURST * scale)
        self._refused = 0

    def allows(self) -> bool:
        """Whether the message just read may be handled (else it has been answered)."""
        if self._bucket.take():
            return True
        session = self._session
        self._refused += 1
        text = say(session.language, "Slow down: too many messages.")
        session.send(wire.Error(code="rate_limited", message=text))
        if self._refused > FLOOD_LIMIT:
            session.close(wire.CLOSE_POLICY, "message flood")
        return False


BEFORE_JOIN_LIMIT = 5  # messages answered before a join; the next one closes the socket


_INVALID_UTF8 = "Invalid UTF-8 sequence received"


class _NoTracebackForInvalidUtf8(logging.Filter):
    """uvicorn logs a traceback for each text frame that is not UTF-8 before it closes
    the socket with 1007: anyone could fill the log with them. The line stays, as a
    warning: it is a client's bad input, not a fault of the server."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The format string, not the formatted message: every socket's "connection open"
        # passes here, and formatting each one cost more than the check.
        if isinstance(record.msg, str) and record.msg.startswith(_INVALID_UTF8):
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("uvicorn.error").addFilter(_NoTracebackForInvalidUtf8())


class _ClosedError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _AnsweredError(Exception):
    """Before the join: a bad message was answered; the reader hands control back so
    that the answer goes out now, not with the next good message."""


def _error(code: str, message: str, ref: Any = None) -> wire.Error:
    """The answer to a bad frame; the request's id as ``ref`` only if it is a valid id."""
    valid = isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref <= 2**53
    return wire.Error(ref=ref if valid else None, code=code, message=message)


def read_frame(text: str) -> wire.Request | wire.Error:
    """One text frame as the socket reads it: a valid protocol message, or the error that
    answers it (``malformed``, ``unknown_type`` or ``invalid``). Never raises."""
    try:
        value = parse_json(text, max_bytes=wire.MAX_MESSAGE_BYTES, max_depth=MAX_DEPTH)
    except PolicyError as error:
        issue = error.issues[0]
        return _error("malformed", f"not a valid message: {issue.pointer} {issue.message}".strip())
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return _error("malformed", "a message is a JSON object with a string 'type'")
    try:
        message: wire.Request = wire.CLIENT_ADAPTER.validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        ref = value.get("id")  # so the client can match the error to its request
        if first["type"] == "union_tag_invalid":
            return _error("unknown_type", f"unknown message type {value['type'][:40]!r}", ref)
        where = "/".join(str(p) for p in first["loc"][1:])
        return _error("invalid", f"{value['type'][:40]}: {where}: {first['msg']}", ref)
    return message


class _Reader:
    """Reads one valid protocol message at a time; answers bad ones with an error."""

    def __init__(self, websocket: WebSocket, reply: Any) -> None:
        self.websocket = websocket
        self.reply = reply
        self.malformed = 0
        self.before_join = True

    def _bad(self, error: wire.Error) -> None:
        self.malformed += 1
        self.reply(error)
        if self.malformed > MALFORMED_LIMIT:
            raise _ClosedError(wire.CLOSE_INVALID_DATA, "too many malformed messages")
        if self.before_join:
            raise _AnsweredError

    async def next(self) -> Any:
        while True:
            try:
                frame = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return None
            if frame["type"] == "websocket.disconnect":
                return None
            text = frame.get("text")
            if text is None:
                raise _ClosedError(
                    wire.CLOSE_UNSUPPORTED, "binary frames are not part of this protocol"
                )
            if len(text) > wire.MAX_MESSAGE_BYTES:
                raise _ClosedError(wire.CLOSE_TOO_BIG, "message too large")
            message = read_frame(text)
            if isinstance(message, wire.Error):
                self._bad(message)
                continue
            return message


_READ_HEADERS = frozenset({b"origin", b"host", b"accept-language"})


def _headers(websocket: WebSocket) -> dict[bytes, str]:
    """The first value of each header of ``_READ_HEADERS`` the request has, as Starlette's
    ``headers`` reads them (ASGI names are lower case, values latin-1), in one pass
    over the list: most sockets have no Origin or Accept-Language, and ``headers.get``
    raised and caught a KeyError for each missing one."""
    found: dict[bytes, str] = {}
    for name, value in websocket.scope["headers"]:
        if name in _READ_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _origin_allowed(websocket: WebSocket, headers: dict[bytes, str]) -> bool:
    """Refuses cross-site sockets (CSWSH): a browser's Origin must be this server."""
    origin = headers.get(b"origin")
    if origin is None:
        return True  # not a browser (bots, the SDK)
    allowed = websocket.app.state.allowed_origins
    host = headers.get(b"host", "")
    return urlsplit(origin).netloc == host or origin in allowed


async def _writer(websocket: WebSocket, session: Session) -> None:
    """Writes what the session is sent, then closes the socket when it is told to.

    The frames of a joined socket go straight to the server's ``send`` (uvicorn's,
    kept by the door's slot): Starlette's state checks and exception wrappers are
    for the handshake and the close, and were on the way of every frame. A burst
    queued meanwhile is written in one wake. While this writer is idle, the session
    writes through ``session.direct`` instead (``frame_writer.py``); ``writing`` keeps
    a message taken from the outbox from being overtaken."""
    slot = websocket.scope.get(SLOT_KEY)
    raw = slot.send if slot is not None else None
    outbox = session.outbox
    with contextlib.suppress(Exception):
        while True:
            text = await outbox.get()
            session.writing = True
            while text is not None:
                if raw is None:
                    await websocket.send_text(text)
                else:
                    await raw({"type": "websocket.send", "text": text})
                if outbox.empty():
                    break
                text = outbox.get_nowait()
            session.writing = False
            if text is None:
                await websocket.close(session.close_code or wire.CLOSE_NORMAL, session.close_reason)
                return


class _Writing:
    """A joined socket's writer task, started the first time the session's outbox holds
    something: most sockets write every frame ``direct`` and close through it only."""

    def __init__(self, websocket: WebSocket, session: Session) -> None:
        self._websocket, self._session = websocket, session
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(_writer(self._websocket, self._session))

    def attach(self, frames: FrameWriter | None) -> None:
        """Writes what the join queued ``direct`` when the connection takes it now, and
        has the session start the writer whenever its outbox fills from now on."""
        session = self._session
        if frames is not None:
            session.direct = frames.send
            if not session.closing and frames.writable():
                for text in session.take_queued():  # in order, all taken this turn
                    assert text is not None  # the close is queued only once closing
                    frames.send(text)
        session.wake = self.start
        if session.has_queued():
            self.start()


async def meeting_socket(websocket: WebSocket) -> None:
    meeting_id: str = websocket.path_params["meeting_id"]
    headers = _headers(websocket)
    if not _origin_allowed(websocket, headers):
        await websocket.close(wire.CLOSE_POLICY, "cross-site connection refused")
        return
    registry: Registry = websocket.app.state.registry
    await websocket.accept()
    pending: list[Any] = []
    reader = _Reader(websocket, pending.append)
    session: Session | None = None
    room: Room | None = None
    writing: _Writing | None = None
    try:
        language = from_accept_language(headers.get(b"accept-language"))
        first = await _first_message(websocket, reader, pending, language)
        if first is None:
            return
        if first.language is None:  # a browser's own languages, unless the join names one
            first = first.model_copy(update={"language": language})
        slot = websocket.scope.get(SLOT_KEY)
        if slot is not None and not slot.claim():  # gave way to a newer socket meanwhile
            await websocket.send_text(wire.encode(too_many_sockets(language)))
            await websocket.close(wire.CLOSE_TRY_AGAIN_LATER, TOO_MANY_SOCKETS)
            return
        client = websocket.client.host if websocket.client else "unknown"
        try:
            result = await join(registry, meeting_id, first, client)
        except MeetingElsewhereError as elsewhere:
            # Another node holds it: past its --edge-after, that node may keep the person
            # here as an edge viewer (server/cascade/serving.py); else they go there.
            edges = getattr(websocket.app.state, "edges", None)
            if not elsewhere.base_url or edges is None:
                raise
            if not await edges.serve(websocket, meeting_id, first, client, reader):
                raise
            return
        if result.refusal is not None or result.session is None or result.room is None:
            refusal = result.refusal or wire.JoinRefused(
                reason="join_failed", rule="", message=reason_text("join_failed", {}, language)
            )
            await websocket.send_text(wire.encode(refusal))
            await websocket.close(wire.CLOSE_JOIN_REFUSED, refusal.reason)
            return
        session, room = result.session, result.room
        reader.reply, reader.before_join = session.send, False
        writing = _Writing(websocket, session)
        writing.attach(FrameWriter.of(slot.send if slot is not None else None))
        person = room.state.get(session.participant_id)
        throttle = Throttle(session, hosting=person is not None and person.is_host)
        while not session.closing:
            message = await reader.next()
            if message is None or session.closing:
                break
            if not throttle.allows():
                continue
            state = websocket.app.state
            if not await handle_request(
                room, session, message, state.files.access, state.capabilities
            ):
                break
    except _ClosedError as closed:
        if session is not None:
            session.close(closed.code, closed.reason)
        else:
            with contextlib.suppress(Exception):
                await websocket.close(closed.code, closed.reason)
    except WebSocketDisconnect:
        pass  # the client went away while we were answering it
    except MeetingElsewhereError as elsewhere:
        with contextlib.suppress(Exception):
            if elsewhere.base_url:  # another node: join there
                await websocket.send_text(wire.encode(wire.Moved(server=elsewhere.base_url)))
                await websocket.close(wire.CLOSE_MOVED, "the meeting is on another node")
            else:  # another worker of this machine: reconnecting reaches it
                await websocket.close(wire.CLOSE_SERVICE_RESTART, "reconnect: the meeting moved")
    except ClusterUnavailableError as error:
        log.warning("meeting %s: %s", meeting_id[:8], error)
        with contextlib.suppress(Exception):
            await websocket.close(wire.CLOSE_TRY_AGAIN_LATER, "the meeting is unavailable now")
    except RoomClosedError:  # the meeting ended or was released under us
        if session is not None:
            session.close(wire.CLOSE_NORMAL, "the meeting is over")
    except Exception:
        log.exception("socket for meeting %s failed", meeting_id[:8])
    finally:
        await _finish(room, session, writing)


# A Starlette route, not FastAPI's ``router.websocket``: FastAPI solves an endpoint's
# parameters (dependency injection) for every socket, a measurable part of each join.
# The application takes it in through ``socket_route.Application``, not its router.
MEETING_SOCKET = WebSocketRoute("/ws/meetings/{meeting_id}", meeting_socket)
router.routes.append(MEETING_SOCKET)


async def _first_message(
    websocket: WebSocket, reader: _Reader, pending: list[Any], language: Language
) -> wire.Join | None:
    """The join, within JOIN_TIMEOUT; errors before it are sent straight away.

    A socket is for joining: a few messages before the join are answered (a client
    may send something early by mistake), and past BEFORE_JOIN_LIMIT the socket is
    closed, so an unjoined socket cannot have the server answer it at its pace.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(os.environ.get(JOIN_TIMEOUT_ENV) or JOIN_TIMEOUT)
    before_join = 0
    while True:
        if before_join >= BEFORE_JOIN_LIMIT:
            await websocket.close(wire.CLOSE_POLICY, "too many messages before the join")
            return None
        before_join += 1
        try:
            # asyncio.timeout, not wait_for: wait_for ran each read in a task of its own.
            async with asyncio.timeout_at(deadline):
                message = await reader.next()
        except TimeoutError:
            await websocket.close(wire.CLOSE_POLICY, "no join message in time")
            return None
        except _AnsweredError:
            continue  # after the finally below has sent the answer
        finally:
            for reply in pending:
                await websocket.send_text(wire.encode(reply))
            pending.clear()
        if message is None:
            return None
        if isinstance(message, wire.Join):
            return message
        text = say(language, "Send join first.")
        ref = getattr(message, "id", None)
        await websocket.send_text(wire.encode(wire.Error(ref=ref, code="not_joined", message=text)))


async def _finish(room: Room | None, session: Session | None, writing: _Writing | None) -> None:
    if room is not None and session is not None:
        # Without a goodbye the person keeps their place and may resume (the Room
        # checks that this is still their connection: a resume elsewhere replaced it).
        with contextlib.suppress(Exception):
            await room.connection_lost(session.participant_id, session)
        session.close(wire.CLOSE_NORMAL, "bye")
    if writing is not None and writing.task is not None:  # started by the close, if not before
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writing.task, 5)
    if session is not None:
        session.detach()
