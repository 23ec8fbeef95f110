"""Roster and waiting-list changes, gathered and sent a few times a second at most.

A decision's roster change goes to everyone admitted: in a meeting of N people
filling at J joins a second, sending each change at once costs N*J frames a
second, and as many wake-ups of every client. The changes are gathered instead:
the ids whose entry changed are kept, and their entries as they are when the
batch goes out are sent in one ``roster_update`` (the hosts' ``waiting_update``
likewise). Entries are read at sending time, so a batch never undoes what a
newer ``admitted`` (whose roster is whole and current) told someone.

The first change after a quiet spell goes out at once, with the decision's
other messages in their order; later ones wait until the batch's interval has
passed since its last one. The two lists are batched apart, as they are read
by different people at different costs:

- the roster, read by everyone admitted: its interval grows with the number of
  readers, so that a meeting's roster costs at most ``ROSTER_FRAMES_PER_SECOND``
  frames a second: 100 ms in a meeting of 10, 1 s (``MAX_INTERVAL``) in one of
  100 or more. LiveKit batches the updates about participants who do not
  publish the same way, every 3 s (``subscriberUpdateInterval`` and
  ``batchedUpdates`` in livekit/livekit pkg/rtc/room.go);
- the waiting list, read by the hosts only, who admit from it: every
  ``WAITING_INTERVAL`` at most, whatever the meeting's size, so that a host sees
  who knocks within a tenth of a second.

What decides something for a person (their own state, notices, results,
``admitted``) is never held back: only these views of the others are. And whoever
sends a request is sent what waits for the batches before its answer
(``catch_up``): an answer never comes before a change decided before it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from meetwarden import protocol as wire

from .roster_text import roster_update
from .telling import admitted_sessions, broadcast, broadcast_text, host_sessions
from .views import waiting_entry

if TYPE_CHECKING:
    from .room import Room
    from .session import Session

__all__ = ["MAX_INTERVAL", "ROSTER_FRAMES_PER_SECOND", "WAITING_INTERVAL", "ViewBatches"]

ROSTER_FRAMES_PER_SECOND = 100.0
"""Roster frames a meeting may cost a second, over all its readers, when busy."""
MAX_INTERVAL = 1.0
"""Seconds at most between a roster change and the batch that carries it."""
WAITING_INTERVAL = 0.1
"""Seconds at most between a change to the waiting list and the hosts' batch."""


class _Batch:
    """Ids gathered for one view, sent at once after a quiet spell, else once ``interval()``
    has passed since the last batch."""

    def __init__(self, interval: Callable[[], float], send: Callable[[list[str]], None]) -> None:
        self._interval, self._send = interval, send
        self._ids: dict[str, None] = {}
        self._due: asyncio.TimerHandle | None = None
        self._sent_at = -math.inf

    def add(self, ids: list[str]) -> None:
        if not ids:
            return
        self._ids.update(dict.fromkeys(ids))
        if self._due is None:
            loop = asyncio.get_running_loop()
            wait = self._sent_at + self._interval() - loop.time()
            if wait <= 0:
                self.flush()  # quiet until now: in the decision's own order, as before
            else:
                self._due = loop.call_later(wait, self.flush)

    def flush(self) -> None:
        self.cancel()
        if self._ids:
            self._sent_at = asyncio.get_running_loop().time()
            ids, self._ids = list(self._ids), {}
            self._send(ids)

    def pending(self) -> list[str]:
        """The ids gathered for the next batch (left for it)."""
        return list(self._ids)

    def holds(self, pid: str) -> bool:
        """Whether ``pid``'s change waits for this batch."""
        return pid in self._ids

    def cancel(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None


class ViewBatches:
    def __init__(self, room: Room) -> None:
        self._room = room
        self._roster = _Batch(self.interval, self._send_roster)
        self._waiting = _Batch(lambda: WAITING_INTERVAL, self._send_waiting)

    def interval(self) -> float:
        """Seconds between two roster batches: longer as more people read them."""
        return min(MAX_INTERVAL, len(self._room.sessions) / ROSTER_FRAMES_PER_SECOND)

    def changed(self, roster: list[str], waiting: list[str]) -> None:
        """The roster entries of ``roster`` and the waiting entries of ``waiting`` changed
        (or went): they go out with the next batch of each."""
        self._roster.add(roster)
        self._waiting.add(waiting)

    def send(self) -> None:
        """Sends what changed since the last batches, as it is now."""
        self._roster.flush()
        self._waiting.flush()

    def catch_up(self, session: Session) -> None:
        """Sends ``session`` alone, as they are now, the changes that wait for the next
        batches (they go to everyone with them): the answer to a request then comes
        after every change decided before it, for whoever asked."""
        room = self._room
        person = room.state.get(session.participant_id)
        if room.closed or person is None or not person.admitted:
            return
        if roster := self._roster.pending():
            session.send_text(self._roster_update(roster))
        if person.is_host and (waiting := self._waiting.pending()):
            session.send(self._waiting_update(waiting))

    def _roster_update(self, ids: list[str]) -> str:
        """The ``roster_update`` of ``ids`` as they are now, encoded (the entries' kept
        texts, ``roster_text.py``)."""
        room = self._room
        state, texts = room.state, room.roster_text
        entries, removed = [], []
        for pid in ids:
            person = state.get(pid)
            if person is not None and person.admitted:
                entries.append(texts.entry(person))
            else:
                removed.append(pid)
        return roster_update(entries, removed)

    def _waiting_update(self, ids: list[str]) -> wire.WaitingUpdate:
        room = self._room
        entries, gone = [], []
        for pid in ids:
            person = room.state.get(pid)
            if person is not None and not person.admitted:
                entries.append(waiting_entry(person, room.wall))
            else:
                gone.append(pid)
        return wire.WaitingUpdate(entries=entries, removed=gone)

    def _send_roster(self, ids: list[str]) -> None:
        room = self._room
        if room.closed:
            return
        broadcast_text(admitted_sessions(room), self._roster_update(ids))

    def _send_waiting(self, ids: list[str]) -> None:
        room = self._room
        if room.closed:
            return
        # The hosts read both lists: whoever moves between them moves in one step for
        # them, their roster change sent with the waiting list's (and again, to everyone,
        # with the roster's batch).
        moved = [pid for pid in ids if self._roster.holds(pid)]
        hosts = host_sessions(room)
        if moved:
            broadcast_text(hosts, self._roster_update(moved))
        broadcast(hosts, self._waiting_update(ids))

    def close(self) -> None:
        self._roster.cancel()
        self._waiting.cancel()
