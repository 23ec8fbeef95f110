"""The front process's count of every worker's participant sockets, per address.

Each meeting lives on one worker, so one address's sockets (a crowd behind a NAT,
or a script opening sockets to many meetings) are spread over the workers. A
worker asks here before a socket opens (``OPEN``) and says when it begins to join
(``CLAIMED``) and when it closes (``CLOSED``); the answer is ``ALLOWED`` or
``REFUSED``, and at the cap the oldest socket of the address that has not begun to
join is closed to make room, whichever worker holds it (``EVICT``), as a single
process does (server/socket_slots.py, the same ``SocketSlots``).

A worker that ends takes its sockets with it: they are forgotten here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..socket_slots import SocketSlots
from .handoff import ALLOWED, CLAIMED, CLOSED, EVICT, OPEN, REFUSED, slot_message, slot_of

__all__ = ["AddressBook", "WorkerSocket"]

log = logging.getLogger("meetwarden.workers")
Post = Callable[[int, bytes], None]
"""Sends a message to the worker of that index."""


class WorkerSocket:
    """One worker's socket, as the front counts it."""

    __slots__ = ("_post", "address", "claimed", "evicted", "number", "worker")

    def __init__(self, worker: int, number: int, address: str, post: Post) -> None:
        self.worker, self.number, self.address = worker, number, address
        self.claimed = False
        self.evicted = False
        self._post = post

    def evict(self) -> None:
        """No longer counted; its worker is told to close it."""
        self.evicted = True
        self._post(self.worker, slot_message(EVICT, self.number))


class AddressBook:
    """Every worker's open participant sockets, per address, under one cap."""

    def __init__(self, cap: int, post: Post) -> None:
        self._post = post
        self.slots: SocketSlots[WorkerSocket] = SocketSlots(cap)
        self._known: dict[tuple[int, int], WorkerSocket] = {}

    def message(self, worker: int, message: bytes) -> None:
        """A message of the socket count from ``worker``; anything else is ignored."""
        try:
            kind, number, address = slot_of(message)
        except ValueError:
            log.warning("worker %d sent a message the front does not know: %r", worker, message)
            return
        key = (worker, number)
        if kind == OPEN:
            opened = WorkerSocket(worker, number, address, self._post)
            allowed = self.slots.open(address, opened)
            if allowed:
                self._known[key] = opened
            self._post(worker, slot_message(ALLOWED if allowed else REFUSED, number))
            return
        if kind == CLAIMED:
            known = self._known.get(key)
            if known is None:  # a number this front never allowed: counted all the same
                known = self._known[key] = WorkerSocket(worker, number, address, self._post)
                known.evicted = True
            if known.evicted:  # evicted as it was claimed: it stays open, so it counts
                known.evicted = False
                self.slots.keep(known.address, known)
            known.claimed = True
        elif kind == CLOSED:
            self._drop(key)

    def forget(self, worker: int) -> None:
        """``worker`` ended: its sockets went with it."""
        for key in [key for key in self._known if key[0] == worker]:
            self._drop(key)

    def count(self, address: str) -> int:
        return self.slots.count(address)

    def _drop(self, key: tuple[int, int]) -> None:
        known = self._known.pop(key, None)
        if known is not None:
            self.slots.close(known.address, known)
