"""The Room's inbox: one writer of a meeting's state, one piece of work at a time.

Everything that changes a meeting (``entrances.py`` lists the ways in) is work
for the Room's turn: the Room's own task takes it from the inbox, in order,
and runs it to the end before taking the next. Work is synchronous by
construction, so a turn never waits on anything slow (``room.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["RoomClosedError", "RoomInbox"]

log = logging.getLogger("meetwarden.room")
T = TypeVar("T")


class RoomClosedError(Exception):
    """The Room was released (ended or idle) while a request was on its way in."""


class RoomInbox:
    """The Room's turn: work is done one piece at a time, in the order it came."""

    meeting_id: str
    closed: bool
    _inbox: asyncio.Queue[tuple[Callable[[], Any], asyncio.Future[Any] | None]]
    _queued: int

    async def _run(self) -> None:
        while True:
            work, future = await self._inbox.get()
            try:
                result = work()
            except Exception as error:
                log.exception("meeting %s: work in the inbox failed", self.meeting_id[:8])
                if future is not None and not future.done():
                    future.set_exception(error)
            else:
                if future is not None and not future.done():
                    future.set_result(result)
            finally:
                self._queued -= 1

    async def _inside(self, work: Callable[[], T]) -> T:
        """Runs ``work`` in the Room's turn, after everything that entered before it.

        Work is synchronous, so when nothing is queued or in hand the turn is now:
        it is taken at once, in the caller's task, with the same order and the same
        one-at-a-time guarantee as the queue gives (and no extra trip through the
        event loop between a host's mute arriving and the gate closing).
        """
        if self.closed:
            raise RoomClosedError(self.meeting_id)
        if self._queued == 0:
            try:
                return work()
            except Exception:
                log.exception("meeting %s: work in the inbox failed", self.meeting_id[:8])
                raise
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued += 1
        self._inbox.put_nowait((work, future))
        return await future

    def post(self, work: Callable[[], object]) -> None:
        """Queues ``work`` without waiting for it (timers, media observations)."""
        if not self.closed:
            self._queued += 1
            self._inbox.put_nowait((work, None))
