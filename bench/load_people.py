"""The honest people of bench/load.py: raw WebSocket participants from chosen addresses.

Each joins from a loopback address of its own choosing (all of 127.0.0.0/8 is
this machine on Linux; to the server these are different addresses), reads
everything it is sent, as a client must to keep its socket flowing, and keeps
count: the answers to its requests, the chat messages it received, the notices.
Most of what an admitted participant reads is rosters, which it skips
without parsing, so that the client process stays light.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

__all__ = ["ANSWER_TIMEOUT", "Person", "RefusedError", "join", "join_and_leave", "message_type"]

ANSWER_TIMEOUT = 60.0
"""Seconds a person waits for an answer before what is missing counts as lost."""


def message_type(text: str) -> str:
    """A server message's type without parsing it all (the server writes ``type`` first)."""
    if text.startswith('{"type":"'):
        end = text.find('"', 9)
        if end > 0:
            return text[9:end]
    return str(json.loads(text).get("type"))


class RefusedError(Exception):
    """A join that did not end in ``admitted``: the server's reason, or how it failed."""


class Person:
    """A joined participant: reads everything it is sent and keeps count."""

    def __init__(self, socket: ClientConnection, participant_id: str) -> None:
        self.socket = socket
        self.participant_id = participant_id
        self.refs = itertools.count(1)
        self.sent: dict[int, str] = {}
        """What each request carried (a chat message's text), by its id."""
        self.results: dict[int, dict[str, Any]] = {}
        self.errors: Counter[str] = Counter()
        """Errors by code (a ``rate_limited`` error names no request)."""
        self.chats: set[str] = set()
        self.notices: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.socket:
                kind = message_type(str(text))
                if kind not in ("result", "error", "chat", "notice"):
                    continue  # rosters, views: nothing to count
                message = json.loads(text)
                if kind == "result":
                    self.results[message["ref"]] = message
                elif kind == "error":
                    self.errors[message["code"]] += 1
                elif kind == "chat":
                    self.chats.add(message["text"])
                else:
                    self.notices[message["topic"]] += 1
                self._changed.set()
        self._changed.set()

    @property
    def closed(self) -> bool:
        """The server closed the socket (or this side did)."""
        return self.reading.done()

    @property
    def close_reason(self) -> str:
        return f"{self.socket.close_code} {self.socket.close_reason or ''}".strip()

    async def send(self, message: dict[str, Any]) -> int | None:
        """Sends a request with an id of its own; None if the socket is closed."""
        ref = next(self.refs)
        try:
            await self.socket.send(json.dumps({**message, "id": ref}))
        except websockets.ConnectionClosed:
            return None
        self.sent[ref] = str(message.get("text", ""))
        return ref

    @property
    def unanswered(self) -> int:
        return len(self.sent) - len(self.results) - self.errors.total()

    async def _until(self, done: Any) -> None:
        while not done() and not self.closed:
            self._changed.clear()
            await self._changed.wait()

    async def all_answered(self) -> None:
        """Until every request has its result or error, or the socket closed."""
        await self._until(lambda: self.unanswered <= 0)

    async def received(self, text: str) -> None:
        """Until the chat message ``text`` arrived, or the socket closed."""
        await self._until(lambda: text in self.chats)


async def join(ws_url: str, meeting_id: str, address: str, name: str, **fields: Any) -> Person:
    """Joins from ``address`` and reads to ``admitted``; RefusedError says why not."""
    try:
        socket = await websockets.connect(
            f"{ws_url}/ws/meetings/{meeting_id}",
            compression=None,
            local_addr=(address, 0),
            open_timeout=ANSWER_TIMEOUT,
        )
    except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
        raise RefusedError(f"no socket: {type(error).__name__}") from error
    participant_id, person = "", None
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            await socket.send(json.dumps({"type": "join", "name": name, **fields}))
            while True:
                message = json.loads(await socket.recv())
                if message["type"] == "welcome":
                    participant_id = message["participant_id"]
                elif message["type"] == "admitted":
                    person = Person(socket, participant_id)
                    return person
                elif message["type"] in ("join_refused", "error", "waiting"):
                    raise RefusedError(message.get("reason") or message.get("code"))
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
        why = f"closed {frame.code} ({frame.reason})" if frame else "closed without a close frame"
        raise RefusedError(why) from closed
    except TimeoutError as error:
        raise RefusedError("no answer in time") from error
    finally:
        if person is None:
            await socket.close()


async def join_and_leave(
    ws_url: str, meeting_id: str, address: str, name: str, **fields: Any
) -> tuple[str, float]:
    """One join, timed from connect to ``admitted`` ("admitted" or why not); then it leaves."""
    started = time.perf_counter()
    try:
        person = await join(ws_url, meeting_id, address, name, **fields)
    except RefusedError as refused:
        return str(refused), time.perf_counter() - started
    took = time.perf_counter() - started
    await person.send({"type": "leave"})
    await person.socket.close()
    return "admitted", took
