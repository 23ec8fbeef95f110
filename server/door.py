"""The door: what every request and socket meets before the application sees it.

- **Bodies.** Every request body is counted as it streams in, chunked or
  not. A declared ``Content-Length`` over the route's limit is answered 413
  before the application runs; a body that grows past it is answered 413 at
  that moment, and the application reads a disconnect, never the rest (a
  64 MiB chunked body to ``/api/policies/explain`` used to be read whole
  first). The default limit fits any policy document; routes that need
  more say so in ``ROUTE_BODY_LIMITS`` (file uploads, whose exact limit is
  the meeting policy's ``file_share.max_bytes``, enforced as they stream).
- **Sockets.** WebSockets are counted per address (an IPv6 /64 counts as one
  address: ``addresses.py``). At ``MEETWARDEN_MAX_SOCKETS_PER_ADDRESS`` open
  at once, the oldest socket from that address that has not begun to join
  gives way (``socket_slots.py``); when all of them are joined, a new one is
  accepted only to be told why, in an ``error`` message and the close (1013,
  try again later; RFC 6455 section 7.4.1 and the IANA registry), and the
  application never sees it.

Refusals are ``application/problem+json`` (RFC 9457) with the reason code, as
everywhere else, sent at once with ``Connection: close``. Then the door
lingers, as nginx does (``lingering_close``): it reads and drops what the
client still has in flight, until ``LINGER_IDLE_SECONDS`` of silence, for at
most ``LINGER_SECONDS``; past ``LINGER_BYTES`` it stops reading and only
waits. Closing with unread bytes makes the kernel reset the connection, and
a client still sending would lose the answer (RFC 9112 section 9.6); reading
on without a bound would let a refused body be read whole.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from meetwarden import protocol as wire

from .addresses import address_key
from .socket_slots import SLOT_KEY, TOO_MANY_SOCKETS, SocketCounts, too_many_sockets

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "MAX_SOCKETS_ENV",
    "MAX_UPLOAD_BYTES",
    "ROUTE_BODY_LIMITS",
    "Door",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_BODY_LIMIT: Final = 300 * 1024
"""Bytes: a policy document is at most 256 KiB; the host API's bodies carry one."""
MAX_UPLOAD_BYTES: Final = 1024 * 1024 * 1024
"""A shared file: the largest file_share.max_bytes a policy may set (1 GiB)."""
ROUTE_BODY_LIMITS: Final[tuple[tuple[str, re.Pattern[str], int], ...]] = (
    ("POST", re.compile(r"/api/meetings/[^/]+/files"), MAX_UPLOAD_BYTES),
)
# nginx lingers 30 s at most, and 5 s of silence (lingering_time, lingering_timeout); a
# client slowed down on a busy machine must have the time to read the answer.
LINGER_SECONDS: Final = 10.0
LINGER_IDLE_SECONDS: Final = 5.0
LINGER_BYTES: Final = 16 * 1024 * 1024
MAX_SOCKETS_ENV: Final = "MEETWARDEN_MAX_SOCKETS_PER_ADDRESS"
MAX_SOCKETS_PER_ADDRESS: Final = 100
"""Enough for a crowd behind one NAT; a server behind a proxy that hides addresses needs more."""


def socket_cap() -> int:
    """Sockets one address may hold open at once: ``MAX_SOCKETS_ENV``, or the default."""
    return int(os.environ.get(MAX_SOCKETS_ENV) or MAX_SOCKETS_PER_ADDRESS)


def _problem(status: int, title: str, detail: str, reason: str) -> bytes:
    body = {
        "type": f"https://meetwarden.example/problems/{reason}",
        "title": title,
        "status": status,
        "detail": detail,
        "reason": reason,
        "rule": "",
    }
    return json.dumps(body).encode()


class Door:
    """ASGI middleware: request bodies counted as they stream, sockets counted per address."""

    def __init__(self, app: ASGIApp, counts: SocketCounts | None = None) -> None:
        self.app = app
        self.sockets = counts if counts is not None else SocketCounts(socket_cap())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- bodies -------------------------------------------------------------------

    @staticmethod
    def body_limit(method: str, path: str) -> int:
        for route_method, pattern, limit in ROUTE_BODY_LIMITS:
            if method == route_method and pattern.fullmatch(path):
                return limit
        return DEFAULT_BODY_LIMIT

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.body_limit(scope["method"], scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _too_large(receive, send, limit)
            return
        received, answered, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    answered = True
                    if not started:
                        await _too_large(receive, send, limit, more=bool(message.get("more_body")))
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if answered and not started:
                return  # the door answered; what the application says after is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not answered:
                raise
            # The application met the disconnect it was given; the 413 is already sent.

    # --- sockets ------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        address = address_key(client[0]) if client else "unknown"
        slot = await self.sockets.open(address)
        if slot is None:
            await _refuse_socket(receive, send)
            return
        scope[SLOT_KEY] = slot
        guarded_receive, guarded_send = slot.guard(receive, send)
        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            self.sockets.close(address, slot)
            slot.send = None  # the server's send held the slot's own scope: a cycle


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) <= 18 else None
    return None


async def _too_large(receive: Receive, send: Send, limit: int, *, more: bool = True) -> None:
    """413 at once; then what is in flight is read and dropped (bounded) before the close."""
    body = _problem(413, "Too large", f"The body is over {limit} bytes.", "too_large")
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    if more:
        await _linger(receive)
    await send({"type": "http.response.body", "body": b""})  # complete: the server closes


async def _linger(receive: Receive) -> None:
    """Reads and drops what the client has in flight, until it goes quiet, for at most
    LINGER_SECONDS; past LINGER_BYTES it stops reading instead (the client's sending
    stops against a full window) and leaves the client the rest of that time to read
    the answer, before the connection closes."""
    loop = asyncio.get_running_loop()
    deadline, dropped = loop.time() + LINGER_SECONDS, 0
    while (left := deadline - loop.time()) > 0:
        if dropped >= LINGER_BYTES:
            await asyncio.sleep(min(left, LINGER_IDLE_SECONDS))
            return
        try:
            message = await asyncio.wait_for(receive(), min(LINGER_IDLE_SECONDS, left))
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body"):
            return
        dropped += len(message.get("body", b""))


async def _refuse_socket(receive: Receive, send: Send) -> None:
    """Accepts the handshake only to say why the socket closes (a browser sees nothing of
    a refused handshake but its failure)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": wire.encode(too_many_sockets())})
    await send(
        {"type": "websocket.close", "code": wire.CLOSE_TRY_AGAIN_LATER, "reason": TOO_MANY_SOCKETS}
    )
