"""Joining a meeting and coming back to it: the socket, the join, the answer, resuming.

The join is sent as soon as the socket opens; its answer (waiting, admitted,
or a refusal) is read here before the reader (``receiving.py``) takes over.
A dropped connection is resumed with the single-use resume token, by hand
(``reconnect``) or by the SDK itself after a restart (``RESUMABLE_CLOSE_CODES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from meetwarden import protocol as wire

from .arguments import build
from .client_state import ClientState
from .errors import (
    ConnectionClosedError,
    InvalidArgumentError,
    JoinRefusedError,
    MeetwardenError,
    MeetwardenTimeoutError,
    ProtocolError,
    ServerUnreachableError,
)
from .reading import read_server_message

__all__ = ["RESUMABLE_CLOSE_CODES", "RESUME_BACKOFF", "Joining", "node_url"]

log = logging.getLogger("meetwarden.client")
RESUMABLE_CLOSE_CODES = frozenset({1001, 1006, 1012})
"""Close codes after which the SDK resumes the bot's place by itself: the server going
away or restarting (1001, 1012, RFC 6455 section 7.4.1 and the IANA registry) and a
connection that dropped without a close frame (1006). A restart keeps everyone's place
(server/runtime/places.py), so the resume token still opens it."""
MAX_MOVES = 3
"""How many times a join follows ``moved`` to another node before it gives up."""
RESUME_BACKOFF = (0.25, 5.0)
"""First and longest pause between resume attempts while the server is down."""


def node_url(server: str) -> str:
    """``server`` as a node's base URL; ProtocolError if it is not an http(s) URL."""
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProtocolError("bad_move", f"the server sent the join to {server!r}, not a URL")
    return server.rstrip("/")


class _MovedError(Exception):
    def __init__(self, server: str) -> None:
        super().__init__(server)
        self.server = server


class Joining(ClientState):
    """Opening the socket, joining on it, and resuming the place after a drop."""

    async def _open(self, timeout: float) -> ClientConnection:
        url = self.server.replace("http", "ws", 1) + f"/ws/meetings/{self.meeting_id}"
        try:
            return await websockets.connect(
                url, open_timeout=timeout, max_size=wire.MAX_MESSAGE_BYTES * 4
            )
        except TimeoutError:
            raise MeetwardenTimeoutError(
                f"the server at {self.server} to answer", timeout
            ) from None
        except websockets.InvalidURI as error:
            raise InvalidArgumentError("link", self.server, str(error)) from None
        except (OSError, websockets.InvalidHandshake) as error:
            raise ServerUnreachableError(self.server, error) from error

    async def _join(self, join: wire.Join, timeout: float) -> None:
        if join.resume_token is None:
            self._join_message = join
        for _ in range(MAX_MOVES):
            try:
                await self._join_here(join, timeout)
                return
            except _MovedError as moved:
                log.info("the meeting is on %s: joining there", moved.server)
                self.server = moved.server
        raise ProtocolError(
            "moved_too_often", f"the servers sent the join on more than {MAX_MOVES} times"
        )

    async def _join_here(self, join: wire.Join, timeout: float) -> None:
        self._socket = await self._open(timeout)
        try:
            await self._socket.send(wire.encode(join))
            async with asyncio.timeout(timeout):
                await self._answer_to_join(self._socket)
        except TimeoutError:
            await self._socket.close()
            raise MeetwardenTimeoutError("the server's answer to the join", timeout) from None
        except websockets.ConnectionClosed as closed:
            self.close_code = self._socket.close_code
            self.close_reason = closed.rcvd.reason if closed.rcvd is not None else ""
            raise ConnectionClosedError(self.close_code, self.close_reason) from None
        self._reader = asyncio.create_task(self._read())

    async def _answer_to_join(self, socket: ClientConnection) -> None:
        while True:
            message = read_server_message(await socket.recv())
            if message is None:
                continue
            if isinstance(message, wire.JoinRefused):
                await socket.close()
                raise JoinRefusedError(
                    message.reason,
                    message.rule,
                    message.message,
                    message.retry_after,
                    decision_id=message.decision_id,
                    params=message.params,
                )
            if isinstance(message, wire.Error):
                await socket.close()
                raise ProtocolError(message.code, message.message, message.params)
            if isinstance(message, wire.Moved):
                await socket.close()
                raise _MovedError(node_url(message.server))
            self._take(message)
            if self.status in ("waiting", "admitted"):
                return

    async def reconnect(self, timeout: float = 15.0) -> None:
        """Comes back after a dropped connection to the place the meeting kept for you.

        Within the policy's ``entry.reconnect_seconds`` the resume token (single use;
        the server sends a new one each time) gives back your place as the meeting has
        it now: admitted or waiting, your role, muted or not, your grants. Media starts
        again: publish and subscribe anew. Later, or after leaving, the join goes through
        the policy like anyone's (the waiting room, say). If the SDK is already resuming
        by itself (after a server restart), this waits for that instead.
        """
        if self._resuming is not None and not self._resuming.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._resuming)
            if self.status in ("waiting", "admitted"):
                return
        await self.close()
        await self._resume(timeout)

    async def _resume(self, timeout: float) -> None:
        self._closed.clear()
        self._closing = False
        self.status = "connecting"
        first = self._join_message  # a renamed bot resumes under its new name
        name = self.you.name if self.you else (first.name if first is not None else "")
        await self._join(
            build(
                wire.Join,
                name=name,
                device_token=self.device_token,
                resume_token=self.resume_token,
                language=self.language,
            ),
            timeout,
        )

    async def _resume_after_drop(self) -> None:
        """Resumes the bot's place after a server restart or a dropped connection,
        trying again while the server is down, for up to ``resume_within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resume_within
        pause, longest = RESUME_BACKOFF
        while True:
            try:
                await self._resume(timeout=min(15.0, max(1.0, deadline - loop.time())))
            except (ServerUnreachableError, ConnectionClosedError, MeetwardenTimeoutError) as error:
                if self.server != self.entry_server:
                    # The node that held the meeting is gone or gave it up: the link's
                    # server knows which node holds it now.
                    self.server = self.entry_server
                if loop.time() + pause >= deadline:
                    log.warning(
                        "could not resume the meeting within %g s: %s", self.resume_within, error
                    )
                    break
                await asyncio.sleep(pause)  # the server is restarting: try again shortly
                pause = min(pause * 2, longest)
                continue
            except MeetwardenError as error:
                log.warning("could not resume the meeting: %s", error)
                break
            log.info("resumed the meeting after the connection dropped")
            return
        self.status = "closed"
        self._closed.set()
        async with self._changed:
            self._changed.notify_all()
