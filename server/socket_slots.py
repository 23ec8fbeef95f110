"""Sockets per address, and which one gives way when an address is at its cap.

A crowd behind one NAT shares an address, and so does a script that opens
sockets and never joins with them. When an address is at its cap, the oldest
socket from it that has not begun to join is closed to make room (it is told
why: ``too_many_connections``, close 1013), so idle sockets cannot keep the
host or a guest on the same network out. Only when every socket from the
address is joining or in the meeting is the new one refused.

The door gives each socket a ``SocketSlot`` in its ASGI scope; ``ws.py`` claims
it when the join arrives (``claim``), from which moment it is never evicted.

With ``serve --workers N`` one address's sockets are spread over the workers (each
meeting lives on one), so the count is the front process's: a worker asks it before
a socket opens and tells it of each claim and close (``workers/shared_slots.py``,
``workers/address_book.py``, which keeps the same ``SocketSlots`` over every
worker's sockets). ``SocketCounts`` is what the door asks, either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, Generic, Protocol, TypeVar

from meetwarden import protocol as wire

from .i18n import DEFAULT_LANGUAGE, Language, say
from .i18n.markers import N_

__all__ = [
    "SLOT_KEY",
    "TOO_MANY_SOCKETS",
    "SharedCount",
    "SocketCounts",
    "SocketSlot",
    "SocketSlots",
    "too_many_sockets",
]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SLOT_KEY: Final = "meetwarden.socket_slot"
TOO_MANY_SOCKETS: Final = "too many connections from your address"


def too_many_sockets(language: Language = DEFAULT_LANGUAGE) -> wire.Error:
    text = N_("Too many connections from your address. Close one and try again.")
    return wire.Error(code="too_many_connections", message=say(language, text))


class SocketSlot:
    """One open socket: claimed once its join arrives, evicted only before that."""

    __slots__ = ("_evicted", "_receiving", "accepted", "claimed", "on_claim", "send")

    def __init__(self) -> None:
        self.claimed = False
        self.on_claim: Callable[[], None] | None = None
        """Told when the socket is claimed (the front's count, with workers)."""
        self.accepted = False
        self._evicted = False
        self._receiving: asyncio.Task[Any] | None = None
        """The application's task while it waits for the first message: an eviction
        cancels that wait (no task of its own for each wait, as ``asyncio.timeout``)."""
        self.send: Send | None = None
        """The server's own ``send`` for this socket (``guard`` sets it): a joined
        socket's frames are written with it, below the application's layers."""

    @property
    def evicted(self) -> bool:
        return self._evicted

    def claim(self) -> bool:
        """Marks the socket as joining; False when it was evicted before that."""
        if self.evicted:
            return False
        self.claimed = True
        if self.on_claim is not None:
            self.on_claim()
        return True

    def evict(self) -> None:
        self._evicted = True
        if self._receiving is not None:
            self._receiving.cancel()

    def guard(self, receive: Receive, send: Send) -> tuple[Receive, Send]:
        """receive and send for the application: until the slot is claimed, an eviction
        ends the application's wait with a disconnect, after telling the client why."""
        self.send = send

        async def guarded_send(message: Message) -> None:
            if message["type"] == "websocket.accept":
                self.accepted = True
            await send(message)

        async def guarded_receive() -> Message:
            if self.claimed:
                return await receive()
            if not self.evicted:
                task = self._receiving = asyncio.current_task()
                try:
                    return await receive()
                except asyncio.CancelledError:
                    if not self.evicted or task is None or task.uncancel() > 0:
                        raise  # the application itself was cancelled (as well)
                finally:
                    self._receiving = None
            if self.accepted:
                await send({"type": "websocket.send", "text": wire.encode(too_many_sockets())})
                await send(
                    {
                        "type": "websocket.close",
                        "code": wire.CLOSE_TRY_AGAIN_LATER,
                        "reason": TOO_MANY_SOCKETS,
                    }
                )
            return {"type": "websocket.disconnect", "code": wire.CLOSE_TRY_AGAIN_LATER}

        return guarded_receive, guarded_send


class Evictable(Protocol):
    """What the count needs of a socket's slot."""

    @property
    def claimed(self) -> bool: ...

    def evict(self) -> None: ...


S = TypeVar("S", bound=Evictable)


class SocketSlots(Generic[S]):
    """The open sockets of every address, oldest first."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._by_address: dict[str, dict[S, None]] = {}

    def count(self, address: str) -> int:
        return len(self._by_address.get(address, ()))

    def open(self, address: str, slot: S) -> bool:
        """Counts ``slot``, a new socket's, evicting the oldest unclaimed one at the cap;
        False when every socket from the address is claimed (``slot`` is not counted)."""
        slots = self._by_address.setdefault(address, {})
        if len(slots) >= self.cap:
            idle = next((other for other in slots if not other.claimed), None)
            if idle is None:
                return False
            idle.evict()
            del slots[idle]
        slots[slot] = None
        return True

    def keep(self, address: str, slot: S) -> None:
        """Counts ``slot`` again: it was claimed as it was being evicted (with workers, the
        two cross), so it stays open, and the address is one over its cap until one goes."""
        self._by_address.setdefault(address, {})[slot] = None

    def close(self, address: str, slot: S) -> None:
        slots = self._by_address.get(address)
        if slots is None:
            return
        slots.pop(slot, None)
        if not slots:
            del self._by_address[address]


class SharedCount(Protocol):
    """A worker's way to the front process's count (``workers/shared_slots.py``)."""

    async def open(self, address: str) -> SocketSlot | None: ...

    def close(self, address: str, slot: SocketSlot) -> None: ...


class SocketCounts:
    """What the door asks: this process's count, or, once ``share`` is called (a worker of
    ``serve --workers N``), the front process's count over every worker."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.local: SocketSlots[SocketSlot] = SocketSlots(cap)
        self.shared: SharedCount | None = None

    def share(self, shared: SharedCount) -> None:
        self.shared = shared

    async def open(self, address: str) -> SocketSlot | None:
        if self.shared is not None:
            return await self.shared.open(address)
        slot = SocketSlot()
        return slot if self.local.open(address, slot) else None

    def close(self, address: str, slot: SocketSlot) -> None:
        if self.shared is not None:
            self.shared.close(address, slot)
        else:
            self.local.close(address, slot)
