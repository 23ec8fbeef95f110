"""Passing accepted connections from the front process to a worker.

The channel is a SOCK_SEQPACKET socket pair: each message keeps its bounds and
carries at most one file descriptor as SCM_RIGHTS ancillary data (unix(7)); the
receiver gets its own descriptor for the same connection, and the sender closes
its copy. A worker says it is ready with one message of its own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

__all__ = ["CONNECTION", "READY", "Channel", "channel_pair"]

CONNECTION = b"c"
READY = b"r"


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(front's end, worker's end), both non-inheritable until passed on purpose."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Channel:
    """One end of a front/worker channel, on the running event loop."""

    def __init__(self, end: socket.socket) -> None:
        end.setblocking(False)
        self.end = end
        self._loop = asyncio.get_running_loop()

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
                    data, fds, _, _ = socket.recv_fds(self.end, 16, 1)
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
        self._loop.remove_reader(self.end.fileno())
        self.end.close()


def _settle(ready: asyncio.Future[None]) -> None:
    # A reader or writer callback runs again while the socket stays ready, until removed.
    if not ready.done():
        ready.set_result(None)
