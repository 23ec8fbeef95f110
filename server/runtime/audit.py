"""The audit log's writer: every decision, in order, off the meeting's hot path.

Entries are queued by the runtime as decisions are made and written in
batches; readers call ``flush`` first so they see everything decided so far.
Passwords never reach it: events carry only whether a password was right.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from meetwarden.server.store import AuditEntry, Store

__all__ = ["AuditWriter"]

log = logging.getLogger("meetwarden.audit")
BATCH = 200
GATHER_SECONDS = 0.2
"""How long the writer lets decisions gather before a commit: one transaction for a
burst instead of one per decision, as the places are saved (``writes.SAVE_DELAY``).
Readers call ``flush``, which writes what has gathered at once: they never miss any,
nor wait for the gathering. Each transaction costs round trips to the database's
thread whatever it holds (at 0.05 s, a crowd joining spent a tenth of the server's
CPU on them; docs/performance.md)."""


class AuditWriter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: asyncio.Queue[AuditEntry | Callable[[], AuditEntry]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._hurry = asyncio.Event()
        """Set by ``flush``: what has gathered is written now."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    def append(self, entry: AuditEntry | Callable[[], AuditEntry]) -> None:
        """Queues ``entry``, or what makes it: a decision's entry is made here, with the
        batch it is written in, not in the meeting's turn (its inputs are immutable)."""
        self._idle.clear()
        self._queue.put_nowait(entry)

    async def flush(self) -> None:
        """Returns once every entry appended so far is stored."""
        while not (self._queue.empty() and self._idle.is_set()):
            self._idle.clear()
            self._hurry.set()
            await self._idle.wait()

    async def _run(self) -> None:
        while True:
            entries = [await self._queue.get()]
            with contextlib.suppress(TimeoutError):  # batching, not waiting on a race
                async with asyncio.timeout(GATHER_SECONDS):
                    await self._hurry.wait()
            self._hurry.clear()
            while len(entries) < BATCH and not self._queue.empty():
                entries.append(self._queue.get_nowait())
            made = [entry for item in entries if (entry := _made(item)) is not None]
            try:
                await self._store.append_audit(made)
            except Exception:  # the meeting goes on; the failure is logged loudly
                log.exception("could not write %d audit entries", len(made))
            if self._queue.empty():
                self._idle.set()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _made(item: AuditEntry | Callable[[], AuditEntry]) -> AuditEntry | None:
    if isinstance(item, AuditEntry):
        return item
    try:
        return item()
    except Exception:  # one entry that cannot be made loses only itself, loudly
        log.exception("could not make an audit entry")
        return None
