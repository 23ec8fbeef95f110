"""A joined socket's text frames, written by the server itself: one write a turn.

A frame sent through ASGI costs a queue, a wake of the socket's writer task,
uvicorn's ``send`` coroutine and one ``transport.write`` (a system call) of its
own. A meeting's broadcast is many sockets' frames at once, so that path is
most of what a join costs the others. Here the frames a socket is sent in one
turn of the event loop are framed by the connection's own WebSocket state
machine (the ``websockets`` sans-I/O ``ServerProtocol`` uvicorn keeps as
``conn``) and written in one ``transport.write`` when the turn ends
(``loop.call_soon``), as uvicorn's ``send`` would have written each.

A broadcast sends one text to every reader, and a server's frames are not
masked (RFC 6455 section 5.1), so each reader's frame is the same bytes: the
text is framed once, by the library's own ``Frame.serialize``, and those bytes
written to each open connection that negotiated no extension (the state
machine's ``send_text`` checks and bookkeeping for such a frame are its state
being OPEN and no fragmented message under way, checked here the same way).

Only uvicorn's ``websockets-sansio`` protocol (its default, which
``uvicorn_protocols.py`` extends) is written this way, and only while its connection is
open and its transport takes writes (``writable``: uvicorn clears it when the transport's
buffer is over its high mark, asyncio's flow control). Otherwise ``send`` answers False
and the caller goes the ASGI way, which waits for the transport and bounds a slow
reader's backlog (``Session``'s outbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.protocol import State

__all__ = ["FrameWriter"]

_NEEDS = (
    "conn",
    "transport",
    "writable",
    "handshake_complete",
    "initial_response",
    "close_sent",
    "disconnected",
)


class FrameWriter:
    """Text frames for one uvicorn WebSocket connection, written once a turn."""

    __slots__ = ("_loop", "_pending", "_protocol")

    _framed: tuple[str | None, bytes] = (None, b"")
    """The text framed last and its frame: a broadcast's readers share its bytes (None
    before the first: no text, not even the one empty string, is it)."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._pending: list[str] = []
        self._loop = asyncio.get_running_loop()

    @classmethod
    def of(cls, send: Callable[..., Any] | None) -> FrameWriter | None:
        """The writer behind uvicorn's ASGI ``send`` of a connection; None for any other
        server or protocol (they keep the ASGI way)."""
        protocol = getattr(send, "__self__", None)
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        for name in _NEEDS:
            if not hasattr(protocol, name):
                return None
        return cls(protocol)

    def _open(self) -> bool:
        protocol = self._protocol
        return bool(
            protocol.handshake_complete
            and protocol.initial_response is None
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.writable.is_set()
            and not protocol.transport.is_closing()
        )

    def writable(self) -> bool:
        """Whether ``send`` takes what it is given this turn."""
        return bool(self._pending) or self._open()

    def send(self, text: str) -> bool:
        """Takes ``text`` to write at the end of this turn; False when the connection
        cannot take a write now (closed, closing, or its buffer full)."""
        pending = self._pending
        if not pending:
            if not self._open():
                return False
            self._loop.call_soon(self._flush)
        pending.append(text)
        return True

    def _flush(self) -> None:
        texts, self._pending = self._pending, []
        protocol = self._protocol
        if protocol.close_sent or protocol.disconnected or protocol.transport.is_closing():
            return  # closed meanwhile: the client reads nothing more, as with a send
        conn = protocol.conn
        if conn.state is State.OPEN and not conn.expect_continuation_frame and not conn.extensions:
            frames = conn.data_to_send()  # nothing, unless the protocol queued a frame itself
            frames.extend(self._frame(text) for text in texts)
            protocol.transport.write(b"".join(frames))
            return
        try:
            for text in texts:
                conn.send_text(text.encode())
        except InvalidState:
            pass  # the client began to close: what was framed before still goes out
        protocol.transport.write(b"".join(conn.data_to_send()))

    @classmethod
    def _frame(cls, text: str) -> bytes:
        """A server's text frame of ``text`` with no extension, framed once for every
        reader of the same text (the same object, sent in one turn)."""
        framed = cls._framed
        if framed[0] is text:
            return framed[1]
        frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
        cls._framed = (text, frame)
        return frame
