"""Roster and waiting-list changes, gathered and sent a few times a second at most.

A decision's roster change goes to everyone admitted: in a meeting of N people
filling at J joins a second, sending each change at once costs N*J frames a
second, and as many wake-ups of every client. The changes are gathered instead:
the ids whose entry changed are kept, and their entries as they are when the
batch goes out are sent in one ``roster_update`` (the hosts' ``waiting_update``
likewise). Entries are read at sending time, so a batch never undoes what a
newer ``admitted`` (whose roster is whole and current) told someone.

The first change after a quiet spell goes out at once, with the decision's
other messages in their order; later ones wait until ``interval`` has passed
since the last batch. The
interval grows with the number of readers so that a meeting's roster costs at
most ``FRAMES_PER_SECOND`` frames a second: 25 ms in a meeting of 10, 250 ms in
one of 100, and at most ``MAX_INTERVAL``. LiveKit batches participant updates to
subscribers the same way (``batchedUpdates`` in livekit/livekit pkg/rtc/room.go).

What decides something for a person (their own state, notices, results,
``admitted``) is never held back: only these views of the others are.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from meetwarden import protocol as wire

from .telling import admitted_sessions, broadcast, host_sessions
from .views import roster_entry, waiting_entry

if TYPE_CHECKING:
    from .room import Room

__all__ = ["FRAMES_PER_SECOND", "MAX_INTERVAL", "ViewBatches"]

FRAMES_PER_SECOND = 400.0
"""Roster frames a meeting may cost a second, over all its readers, when busy."""
MAX_INTERVAL = 1.0
"""Seconds at most between a change and the batch that carries it."""


class ViewBatches:
    def __init__(self, room: Room) -> None:
        self._room = room
        self._roster: dict[str, None] = {}
        self._waiting: dict[str, None] = {}
        self._due: asyncio.TimerHandle | None = None
        self._sent_at = -math.inf

    def interval(self) -> float:
        """Seconds between two batches: longer as more people read them."""
        return min(MAX_INTERVAL, len(self._room.sessions) / FRAMES_PER_SECOND)

    def changed(self, roster: list[str], waiting: list[str]) -> None:
        """The roster entries of ``roster`` and the waiting entries of ``waiting`` changed
        (or went): they go out with the next batch."""
        self._roster.update(dict.fromkeys(roster))
        self._waiting.update(dict.fromkeys(waiting))
        if self._due is None and (self._roster or self._waiting):
            loop = asyncio.get_running_loop()
            wait = self._sent_at + self.interval() - loop.time()
            if wait <= 0:
                self.send()  # quiet until now: in the decision's own order, as before
            else:
                self._due = loop.call_later(wait, self.send)

    def send(self) -> None:
        """Sends what changed since the last batch, as it is now."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        room = self._room
        if room.closed:
            return
        self._sent_at = asyncio.get_running_loop().time()
        roster, self._roster = self._roster, {}
        waiting, self._waiting = self._waiting, {}
        state = room.state
        if roster:
            entries, removed = [], []
            for pid in roster:
                person = state.get(pid)
                if person is not None and person.admitted:
                    entries.append(roster_entry(person))
                else:
                    removed.append(pid)
            broadcast(admitted_sessions(room), wire.RosterUpdate(entries=entries, removed=removed))
        if waiting:
            waiting_entries, gone = [], []
            for pid in waiting:
                person = state.get(pid)
                if person is not None and not person.admitted:
                    waiting_entries.append(waiting_entry(person, room.wall))
                else:
                    gone.append(pid)
            update = wire.WaitingUpdate(entries=waiting_entries, removed=gone)
            broadcast(host_sessions(room), update)

    def close(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None
