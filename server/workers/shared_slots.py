"""A worker's half of the socket count: asks the front process before a socket opens.

The door of a worker of ``serve --workers N`` (server/door.py) counts its sockets
here instead of in its own process: the front process counts every worker's
(address_book.py), so one address holds at most the cap of sockets across all the
workers, and at the cap its oldest idle socket gives way wherever it is. The ask
is one message each way over the worker's channel (a local socket pair); claims
and closes are told without waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from ..socket_slots import SocketSlot
from .handoff import (
    ALLOWED,
    CLAIMED,
    CLOSED,
    EVICT,
    OPEN,
    REFUSED,
    Channel,
    slot_message,
    slot_of,
)

__all__ = ["SharedSlots"]

log = logging.getLogger("meetwarden.workers")
ANSWER_SECONDS = 10.0
"""How long a socket waits for the front's answer before it is refused (a front that
does not answer hands over no new connection either)."""


class SharedSlots:
    """This worker's sockets, counted by the front process."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._numbers = itertools.count(1)
        self._asking: dict[int, tuple[str, asyncio.Future[SocketSlot | None]]] = {}
        self._open: dict[int, tuple[str, SocketSlot]] = {}
        self._number_of: dict[SocketSlot, int] = {}
        self._loop = asyncio.get_running_loop()

    async def open(self, address: str) -> SocketSlot | None:
        """A slot for a new socket from ``address``, or None: the front refused it (every
        socket of the address, on any worker, has joined), or the front is gone."""
        number = next(self._numbers)
        answer: asyncio.Future[SocketSlot | None] = self._loop.create_future()
        self._asking[number] = (address, answer)
        self._channel.post(slot_message(OPEN, number, address))
        try:
            return await asyncio.wait_for(answer, ANSWER_SECONDS)
        except TimeoutError:
            log.warning("the front did not answer for a socket in %.0f s: refused", ANSWER_SECONDS)
            return None
        except asyncio.CancelledError:
            if answer.done() and not answer.cancelled() and (slot := answer.result()):
                self.close(address, slot)  # answered, but nobody is left to use it
            raise
        finally:
            self._asking.pop(number, None)

    def close(self, address: str, slot: SocketSlot) -> None:
        number = self._number_of.pop(slot, None)
        if number is not None:
            del self._open[number]
            self._channel.post(slot_message(CLOSED, number))

    def message(self, message: bytes) -> None:
        """A message of the socket count from the front."""
        try:
            kind, number, _ = slot_of(message)
        except ValueError:
            log.warning("the front sent a message this worker does not know: %r", message)
            return
        if kind in (ALLOWED, REFUSED):
            asked = self._asking.get(number)
            if asked is None or asked[1].done():
                if kind == ALLOWED:  # the socket went meanwhile: the front counts it no more
                    self._channel.post(slot_message(CLOSED, number))
                return
            address, answer = asked
            answer.set_result(self._opened(number, address) if kind == ALLOWED else None)
        elif kind == EVICT:
            opened = self._open.get(number)
            if opened is None:
                return  # closed meanwhile
            address, slot = opened
            if slot.claimed:  # claimed as it was evicted: it stays, and the front counts it
                self._channel.post(slot_message(CLAIMED, number, address))
            else:
                slot.evict()

    def front_gone(self) -> None:
        """The channel closed: nothing more is answered (the worker is stopping)."""
        for _, answer in list(self._asking.values()):
            if not answer.done():
                answer.set_result(None)

    def _opened(self, number: int, address: str) -> SocketSlot:
        slot = SocketSlot()
        channel = self._channel
        slot.on_claim = lambda: channel.post(slot_message(CLAIMED, number, address))
        self._open[number] = (address, slot)
        self._number_of[slot] = number
        return slot
