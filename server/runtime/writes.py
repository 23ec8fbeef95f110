"""Store writes that a Room's decisions need (bans, lock, policy, end, places), off the Room.

A Room never waits on the database: it hands each write to this writer and
goes on to the next event. Writes run one at a time in the order they were
handed over, so one meeting's writes land in the order it decided them. A
failed write is logged loudly and the meeting goes on (as a failed audit
write does); ``flush`` waits until everything handed over so far is written.

Saved places come from every live meeting several times a second when people
come and go. The Rooms whose places changed are saved on one shared tick
(``save_soon``, every ``SAVE_DELAY`` seconds at most), and places handed over
one after another are stored together, in one transaction
(``Store.save_room_states``): a thousand people joining a hundred meetings
cost a few commits a second, not a few hundred, and the order against every
other write stays as handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..store import PlacesSave, Store

__all__ = ["PLACES_BATCH", "SAVE_DELAY", "StoreWrites"]

log = logging.getLogger("meetwarden.store")
Write = Callable[[], Awaitable[object]]
PLACES_BATCH = 200
"""Meetings' places stored in one transaction at most."""
SAVE_DELAY = 0.2
"""Seconds at most from a decision until its meeting's places are handed over."""


@dataclass(frozen=True, slots=True)
class _Places:
    store: Store
    save: PlacesSave
    fenced_out: Callable[[], None]
    """Told when another node holds the meeting now (nothing was written)."""


@dataclass(frozen=True, slots=True)
class _Write:
    what: str
    write: Write


class StoreWrites:
    def __init__(self) -> None:
        self._pending: deque[_Write | _Places] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._due: dict[object, Callable[[], None]] = {}
        self._tick: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="store-writes")

    def put(self, what: str, write: Write) -> None:
        """Hand a write over; ``what`` names it in the log if it fails."""
        self._hand_over(_Write(what, write))

    def put_places(self, store: Store, save: PlacesSave, fenced_out: Callable[[], None]) -> None:
        """Hand a meeting's places over; ``fenced_out`` is called if another node has
        taken the meeting over (and nothing is written for it)."""
        self._hand_over(_Places(store, save, fenced_out))

    def save_soon(self, key: object, save: Callable[[], None]) -> None:
        """``save`` is called on the next tick, within ``SAVE_DELAY`` seconds, with every
        other that is due by then (once, however often it was asked for meanwhile)."""
        self._due[key] = save
        if self._tick is None:
            self._tick = asyncio.get_running_loop().call_later(SAVE_DELAY, self._save_due)

    def not_soon(self, key: object) -> None:
        """Forget a ``save_soon`` not made yet."""
        self._due.pop(key, None)

    def _save_due(self) -> None:
        self._tick = None
        due, self._due = self._due, {}
        for save in due.values():
            save()

    def _hand_over(self, item: _Write | _Places) -> None:
        self._idle.clear()
        self._pending.append(item)
        self._wake.set()

    async def flush(self) -> None:
        """Returns once every write handed over so far has been tried."""
        while not (not self._pending and self._idle.is_set()):
            self._idle.clear()
            await self._idle.wait()

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._pending.popleft()
            if isinstance(item, _Places):
                await self._places(self._following_places(item))
                continue
            try:
                await item.write()
            except Exception:  # the meeting goes on; the failure is logged loudly
                log.exception("could not %s", item.what)

    def _following_places(self, first: _Places) -> list[_Places]:
        """``first`` and the places handed over right after it, for the same store."""
        batch = [first]
        pending = self._pending
        while len(batch) < PLACES_BATCH and pending:
            after = pending[0]
            if not isinstance(after, _Places) or after.store is not first.store:
                break
            pending.popleft()
            batch.append(after)
        return batch

    async def _places(self, batch: list[_Places]) -> None:
        try:
            fenced = await batch[0].store.save_room_states([item.save for item in batch])
        except Exception:
            if len(batch) == 1:
                log.exception(
                    "could not save the places of meeting %s", batch[0].save.meeting_id[:8]
                )
                return
            # One meeting's failure is not every meeting's: each is tried alone.
            log.warning("could not save %d meetings' places at once; one by one", len(batch))
            for item in batch:
                await self._places([item])
            return
        for item in batch:
            if item.save.meeting_id in fenced:
                item.fenced_out()

    async def close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._save_due()
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
