"""Passing accepted connections from the front process to a worker.

The channel is a SOCK_SEQPACKET socket pair: each message keeps its bounds and
carries at most one file descriptor as SCM_RIGHTS ancillary data (unix(7)); the
receiver gets its own descriptor for the same connection, and the sender closes
its copy. A worker says it is ready with one message of its own.

The same channel carries the socket count of every address (shared_slots.py and
address_book.py): a message's first byte is its kind, then a slot's number (8 bytes,
network order), then, for an open or a claim, the address. The guessing budgets the
front counts for every worker (shared_budget.py and budget_book.py) use the same form:
a kind, an ask's number, then the budget and the key (or the answer).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
from collections.abc import Callable

__all__ = [
    "ALLOWED",
    "CLAIMED",
    "CLOSED",
    "CONNECTION",
    "EVICT",
    "GIVE",
    "OPEN",
    "READY",
    "REFUSED",
    "TAKE",
    "TAKEN",
    "Channel",
    "channel_pair",
    "slot_message",
    "slot_of",
]

CONNECTION = b"c"
READY = b"r"
# The socket count (worker -> front): may a socket open; it began to join; it closed.
OPEN, CLAIMED, CLOSED = b"o", b"k", b"x"
# (front -> worker): it may; it may not; close it (the oldest idle one, at the cap).
ALLOWED, REFUSED, EVICT = b"a", b"n", b"e"
# Guessing budgets (worker -> front): count an attempt; give one back. (front -> worker):
# the answer to a count (empty: counted; else the seconds to wait).
TAKE, GIVE, TAKEN = b"t", b"g", b"w"
MESSAGE_BYTES = 512
"""The longest message read: a kind, a number and an address (at most 255 bytes)."""
_NUMBER = struct.Struct("!Q")


def slot_message(kind: bytes, number: int, address: str = "") -> bytes:
    """One message of the socket count."""
    return kind + _NUMBER.pack(number) + address.encode()[:255]


def slot_of(message: bytes) -> tuple[bytes, int, str]:
    """(kind, number, address) of a message of the socket count; ValueError if it is not one."""
    if len(message) < 1 + _NUMBER.size:
        raise ValueError("too short for a socket count message")
    (number,) = _NUMBER.unpack_from(message, 1)
    return message[:1], number, message[1 + _NUMBER.size :].decode(errors="replace")


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(front's end, worker's end), both non-inheritable until passed on purpose."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Channel:
    """One end of a front/worker channel, on the running event loop."""

    def __init__(self, end: socket.socket) -> None:
        end.setblocking(False)
        self.end = end
        self._loop = asyncio.get_running_loop()
        self._queued: collections.deque[bytes] = collections.deque()
        self._flushing: asyncio.Task[None] | None = None

    def post(self, message: bytes) -> None:
        """Sends ``message`` (no descriptor) now, or after those queued before it while the
        channel is full; dropped if the other end is gone (it stops too)."""
        if not self._queued:
            try:
                self.end.send(message)
                return
            except BlockingIOError:
                pass
            except OSError:
                return
        self._queued.append(message)
        if self._flushing is None:
            self._flushing = self._loop.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._queued:
                await self.send(self._queued[0])
                self._queued.popleft()
        except OSError:
            self._queued.clear()
        finally:
            self._flushing = None

    async def send(self, kind: bytes, descriptor: int | None = None) -> None:
        """Sends ``kind`` (with the descriptor, if any), waiting while the channel is full.

        Raises OSError if the other end is gone.
        """
        fds = [descriptor] if descriptor is not None else []
        while True:
            try:
                socket.send_fds(self.end, [kind], fds)
                return
            except BlockingIOError:
                await self._writable()

    async def _writable(self) -> None:
        ready = self._loop.create_future()
        self._loop.add_writer(self.end.fileno(), _settle, ready)
        try:
            await ready
        finally:
            self._loop.remove_writer(self.end.fileno())

    def listen(
        self, on_message: Callable[[bytes, int | None], None], on_closed: Callable[[], None]
    ) -> None:
        """Calls ``on_message(kind, descriptor)`` for each message, ``on_closed()`` at EOF."""

        def readable() -> None:
            while True:
                try:
                    data, fds, _, _ = socket.recv_fds(self.end, MESSAGE_BYTES, 1)
                except BlockingIOError:
                    return
                except OSError:
                    data, fds = b"", []
                if not data and not fds:
                    self._loop.remove_reader(self.end.fileno())
                    on_closed()
                    return
                on_message(data, fds[0] if fds else None)

        self._loop.add_reader(self.end.fileno(), readable)

    def close(self) -> None:
        if self.end.fileno() == -1:
            return  # closed already
        self._loop.remove_reader(self.end.fileno())
        self.end.close()


def _settle(ready: asyncio.Future[None]) -> None:
    # A reader or writer callback runs again while the socket stays ready, until removed.
    if not ready.done():
        ready.set_result(None)
