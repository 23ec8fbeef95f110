"""Every connection connects within its connect timeout, or fails with a reason.

aiortc reports a failed ICE check list or DTLS handshake only as a
``connectionState`` of ``failed``, and nothing at all for a peer that went away
mid-handshake: the connection stays ``connecting`` with its sockets open (a
client that vanished after the offer and answer was never released). A
``ConnectionWatch`` starts a clock once the client has what it needs to connect,
and calls ``on_failed`` once, with the reason, when the connection fails or is
closed by the other side, or when the clock runs out first. The owner then
releases the connection; ``stop`` (the server closes it itself) ends the watch
without a report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCPeerConnection

from .aiortc_seam import primary_transport
from .events import ConnectionFailedReason

__all__ = ["ConnectionWatch"]


class ConnectionWatch:
    """Watches one RTCPeerConnection until it connects, fails, or the server stops it."""

    def __init__(self, pc: RTCPeerConnection, connect_timeout: float) -> None:
        self._pc = pc
        self._connect_timeout = connect_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._connected = False
        self._stopped = False
        self.on_failed: Callable[[ConnectionFailedReason], None] | None = None
        pc.on("connectionstatechange", self._changed)

    @property
    def connected(self) -> bool:
        """The connection was connected at least once."""
        return self._connected

    def start_clock(self) -> None:
        """The client has what it needs to connect: it has ``connect_timeout`` seconds."""
        if self._timer is None and not self._stopped and not self._connected:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._connect_timeout, self._fail, "timed_out")

    def stop(self) -> None:
        """The server releases this connection itself: nothing more is reported."""
        self._stopped = True
        self._cancel_clock()

    def _cancel_clock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _changed(self) -> None:
        state = self._pc.connectionState
        if state == "connected":
            self._connected = True
            self._cancel_clock()
        elif state in ("failed", "closed"):
            self._fail(self._reason())

    def _reason(self) -> ConnectionFailedReason:
        if self._connected:
            return "lost"
        dtls = primary_transport(self._pc)
        if dtls is not None and dtls.transport.state == "failed":
            return "ice_failed"
        return "dtls_failed"

    def _fail(self, reason: ConnectionFailedReason) -> None:
        if self._stopped:
            return
        self.stop()
        if self.on_failed is not None:
            self.on_failed(reason)
