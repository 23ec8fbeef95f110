"""Store writes that a Room's decisions need (bans, lock, policy, end), off the Room.

A Room never waits on the database: it hands each write to this writer and
goes on to the next event. Writes run one at a time in the order they were
handed over, so one meeting's writes land in the order it decided them. A
failed write is logged loudly and the meeting goes on (as a failed audit
write does); ``flush`` waits until everything handed over so far is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["StoreWrites"]

log = logging.getLogger("meetwarden.store")
Write = Callable[[], Awaitable[object]]


class StoreWrites:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[str, Write]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="store-writes")

    def put(self, what: str, write: Write) -> None:
        """Hand a write over; ``what`` names it in the log if it fails."""
        self._idle.clear()
        self._queue.put_nowait((what, write))

    async def flush(self) -> None:
        """Returns once every write handed over so far has been tried."""
        while not (self._queue.empty() and self._idle.is_set()):
            self._idle.clear()
            await self._idle.wait()

    async def _run(self) -> None:
        while True:
            what, write = await self._queue.get()
            try:
                await write()
            except Exception:  # the meeting goes on; the failure is logged loudly
                log.exception("could not %s", what)
            if self._queue.empty():
                self._idle.set()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
