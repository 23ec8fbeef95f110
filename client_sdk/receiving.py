"""Receiving: the socket's reader, what the client knows, and the events it waits for.

Every server message updates what the client knows (status, roster, waiting
list, policy) and becomes typed events (``events.py``) in a buffer that
``wait_for`` and ``events`` take from; a reply goes to the request awaiting
it, and a subscriber offer to the media session. When the socket closes the
reader decides whether the SDK resumes by itself (``joining.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import websockets

from meetwarden import protocol as wire

from . import events as ev
from .client_state import ClientState
from .errors import (
    DismissedError,
    MeetwardenTimeoutError,
    ProtocolError,
)
from .joining import RESUMABLE_CLOSE_CODES, node_url
from .reading import read_server_message

__all__ = ["BUFFER_LIMIT", "Receiving"]

log = logging.getLogger("meetwarden.client")
E = TypeVar("E", bound=ev.Event)
BUFFER_LIMIT = 10_000


Entry = TypeVar("Entry", wire.RosterEntry, wire.WaitingEntry)


def updated(people: list[Entry], entries: list[Entry], removed: list[str]) -> list[Entry]:
    """A list after an update: each entry in place of the one with its id, or at the end;
    the removed ids gone."""
    by_id = {entry.id: entry for entry in entries}
    gone = set(removed)
    kept = [by_id.pop(p.id, p) for p in people if p.id not in gone]
    return kept + [entry for entry in entries if entry.id in by_id]


class Receiving(ClientState):
    """The reader of the socket, and the waits on what it received."""

    def _take(self, message: Any) -> None:
        """Updates what the client knows, and queues the typed events."""
        previous = self.you
        match message:
            case wire.Welcome():
                self.participant_id, self.role = message.participant_id, message.role
                self.device_token = message.device_token
                if message.resume_token is not None:  # single use: each welcome brings one
                    self.resume_token = message.resume_token
            case wire.Waiting():
                self.status = "waiting"
            case wire.Admitted():
                self.status = "admitted"
                self.meeting, self.you, self.roster = message.meeting, message.you, message.roster
                self.resume_token = message.resume_token
                self.role = message.you.role
                self.ice_servers = message.ice_servers
            case wire.Dismissed():
                self.status, self.dismissal = "dismissed", message
            case wire.BackToWaitingRoom():
                self.status = "waiting"
                self.roster = []
            case wire.RosterUpdate():
                self.roster = updated(self.roster, message.entries, message.removed)
            case wire.WaitingList():
                self.waiting = message.waiting
            case wire.WaitingUpdate():
                self.waiting = updated(self.waiting, message.entries, message.removed)
            case wire.You():
                self.you, self.role = message.you, message.you.role
            case wire.Meeting():
                self.meeting = message.meeting
            case wire.PolicyMessage():
                self.policy = message.policy
            case wire.Speaking():
                self.speaking = list(message.participants)
        for event in ev.event_for(message, previous, self.roster, self.waiting):
            self._buffer.append(event)
        del self._buffer[:-BUFFER_LIMIT]

    def _follow(self, server: str) -> None:
        """Resumes at ``server`` (a node's base URL) rather than here; a server that is not
        a URL is ignored (the resume then asks this node, and then the link's)."""
        try:
            self.server = node_url(server)
        except ProtocolError:
            log.warning("the server sent this client to %r, not a URL", server)
        else:
            log.info("the meeting's node moved this client to %s", self.server)

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for text in self._socket:
                message = read_server_message(text)
                if message is None:
                    continue
                ref = getattr(message, "ref", None)
                if ref is not None and ref in self._pending:
                    future = self._pending.pop(ref)
                    if future.done():
                        continue
                    if isinstance(message, wire.Error):
                        future.set_exception(
                            ProtocolError(message.code, message.message, message.params)
                        )
                    else:
                        future.set_result(message)
                    continue
                if isinstance(message, wire.SubscribeOffer) and self._media is not None:
                    self._spawn(self._answer_offer(message))
                    continue
                if isinstance(message, wire.Moved):
                    self.moved_to = message.server  # resumed there once the socket closes
                    continue
                self._take(message)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self._socket.close_code
            self.close_reason = self._socket.close_reason or ""
            moved, self.moved_to = self.moved_to, None
            moving = moved is not None and self.close_code == wire.CLOSE_MOVED
            resume = (
                self.resume_automatically
                and not self._closing
                and self.status != "dismissed"
                and self.resume_token is not None
                and (self.close_code in RESUMABLE_CLOSE_CODES or moving)
            )
            if resume and moving and moved is not None:
                self._follow(moved)
            if self.status != "dismissed":
                self.status = "reconnecting" if resume else "closed"
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(self._gone())
            self._pending.clear()
            if resume:
                await self._drop_media()
                self._resuming = asyncio.create_task(self._resume_after_drop())
            else:
                self._closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(
        self,
        kind: type[E] | tuple[type[E], ...],
        predicate: Callable[[E], bool] | None = None,
        timeout: float = 15.0,
    ) -> E:
        """The first received event of this kind not taken yet (waiting for it if needed).

        Raises MeetwardenTimeoutError (a TimeoutError) after ``timeout`` seconds, and
        DismissedError or ConnectionClosedError once the connection closed without one.
        """
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    for index, event in enumerate(self._buffer):
                        if isinstance(event, kind) and (predicate is None or predicate(event)):
                            del self._buffer[index]
                            return event
                    if self._closed.is_set():
                        raise self._gone()
                    await self._changed.wait()
        except TimeoutError:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            what = " or ".join(k.__name__ for k in kinds)
            raise MeetwardenTimeoutError(f"a {what} event", timeout) from None

    async def events(self) -> AsyncIterator[ev.Event]:
        """Every event in the order received, until the connection closes."""
        while True:
            try:
                yield await self.wait_for(ev.Event, timeout=365 * 24 * 3600)
            except (DismissedError, ConnectionError):
                return

    async def wait_admitted(self, timeout: float = 30.0) -> wire.Admitted:
        """Returns once a host admits you; raises DismissedError if you are denied instead."""
        event = await self.wait_for(
            (ev.Admitted, ev.Denied, ev.Removed, ev.MeetingEnded), timeout=timeout
        )
        if isinstance(event, ev.Admitted):
            return event.message  # type: ignore[no-any-return]
        d = event.message
        raise DismissedError(d.why, d.reason, d.rule, d.message, d.params)

    async def wait_closed(self, timeout: float = 15.0) -> None:
        """Returns once the connection is closed (by you, the server, or a dismissal)."""
        try:
            async with asyncio.timeout(timeout):
                await self._closed.wait()
        except TimeoutError:
            raise MeetwardenTimeoutError("the connection to close", timeout) from None

    async def _answer_offer(self, offer: wire.SubscribeOffer) -> None:
        try:
            await self._media.apply_offer(offer)
        except Exception as error:  # the connection may close while answering
            if not (self._closing or self._closed.is_set()):
                log.warning("could not answer a subscriber offer: %r", error)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
