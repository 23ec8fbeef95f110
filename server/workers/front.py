"""The front process's door: accept, read the request line without consuming it, hand
the connection to the worker that holds its meeting.

The request line is peeked (recv with MSG_PEEK, recv(2)), so the worker reads the
request from its first byte. A path that names a meeting (server/placement.py)
goes to that meeting's worker, a sign-in to the worker that counts sign-in guesses;
any other request (creating a meeting, the API's other routes, static files) to
the next worker in turn. A client that sends no
request line in time is closed, and at most MAX_PENDING connections wait for
one at once (the rest are closed at once), so slow clients cannot pile up here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import Sequence
from typing import Protocol

from ..placement import worker_for_path
from .handoff import CONNECTION, Channel

__all__ = ["Front", "WorkerDoor", "request_path"]

log = logging.getLogger("meetwarden.workers")
PEEK_BYTES = 4096
HEAD_SECONDS = 10.0
"""How long a new connection may take to send its request line."""
WORKER_WAIT_SECONDS = 30.0
"""How long a connection waits for its worker to be ready (one restarting after a crash)."""
MAX_PENDING = 4096
_PART_LINE_WAIT = 0.005


class WorkerDoor(Protocol):
    """What the front needs of a worker: its channel once it is ready."""

    async def ready_channel(self) -> Channel: ...


def request_path(head: bytes) -> str | None:
    """The path of an HTTP request line (``GET /ws/meetings/x HTTP/1.1``), or None."""
    line = head.split(b"\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[1].startswith(b"/"):
        return None
    return parts[1].decode("latin-1")


class Front:
    def __init__(self, listener: socket.socket, workers: Sequence[WorkerDoor]) -> None:
        listener.setblocking(False)
        self.listener = listener
        self.workers = workers
        self._turns = itertools.cycle(range(len(workers)))
        self._pending: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_running_loop()

    def start(self) -> None:
        self._loop.add_reader(self.listener.fileno(), self._accept)

    def stop(self) -> None:
        self._loop.remove_reader(self.listener.fileno())
        self.listener.close()

    async def drain(self) -> None:
        """Waits for the connections being routed (stop first)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _accept(self) -> None:
        for _ in range(64):  # a burst of connects, then back to the loop
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # out of descriptors: the client retries
                log.warning("could not accept a connection: %s", error)
                return
            if len(self._pending) >= MAX_PENDING:
                connection.close()
                continue
            connection.setblocking(False)
            task = self._loop.create_task(self._route(connection))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _route(self, connection: socket.socket) -> None:
        try:
            head = await self._request_line(connection)
            if head is None:
                return
            path = request_path(head)
            index = worker_for_path(path, len(self.workers)) if path is not None else None
            if index is None:
                index = next(self._turns)
            channel = await asyncio.wait_for(
                self.workers[index].ready_channel(), WORKER_WAIT_SECONDS
            )
            await channel.send(CONNECTION, connection.fileno())
        except (TimeoutError, OSError):
            pass  # no worker in time, or the client left: it sees the connection close
        finally:
            connection.close()  # the worker has its own descriptor for it now

    async def _request_line(self, connection: socket.socket) -> bytes | None:
        """The first bytes of the request, once its first line is in (None: closed)."""
        deadline = self._loop.time() + HEAD_SECONDS
        while True:
            try:
                data: bytes | None = connection.recv(PEEK_BYTES, socket.MSG_PEEK)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                return None
            if data == b"":
                return None  # the client closed before asking anything
            if data is not None and (b"\n" in data or len(data) >= PEEK_BYTES):
                return data
            left = deadline - self._loop.time()
            if left <= 0:
                return None
            if data is None:
                await asyncio.wait_for(self._readable(connection), left)
            else:
                # Part of a line: the socket stays readable until the rest comes, so
                # readiness cannot wait for it; look again shortly.
                await asyncio.sleep(_PART_LINE_WAIT)

    async def _readable(self, connection: socket.socket) -> None:
        ready = self._loop.create_future()
        self._loop.add_reader(connection.fileno(), _settle, ready)
        try:
            await ready
        finally:
            self._loop.remove_reader(connection.fileno())


def _settle(ready: asyncio.Future[None]) -> None:
    # A reader or writer callback runs again while the socket stays ready, until removed.
    if not ready.done():
        ready.set_result(None)
