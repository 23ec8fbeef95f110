"""Keyframe requests to a publisher, at most one per interval (DESIGN.md, "Media plane").

Subscribers ask for keyframes (PLI, FIR) whenever their decoder is lost; a
subscriber that asks in a loop must not make the publisher send nothing but
keyframes. Every track's requests go through one ``KeyframeRequester``: the
first is sent at once, later ones within ``min_interval`` are gathered into
one sent when the interval ends (deferred, never lost). The server's own
decisions (a gate that opens) are ``urgent`` and skip the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["KeyframeRequester"]


class KeyframeRequester:
    """Sends a publisher's PLI at most once per ``min_interval`` seconds."""

    def __init__(self, send: Callable[[], bool], min_interval: float) -> None:
        self._send = send
        self._min_interval = min_interval
        self._last = -float("inf")
        self._deferred: asyncio.TimerHandle | None = None
        self.requested = 0
        self.sent = 0

    def request(self, urgent: bool = False) -> None:
        """Ask for a keyframe; ``urgent`` (a server decision, not a subscriber) skips the limit."""
        self.requested += 1
        now = time.monotonic()
        wait = self._last + self._min_interval - now
        if wait <= 0 or urgent:
            self.cancel()
            self._fire()
        elif self._deferred is None:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._fire)

    @property
    def pending(self) -> bool:
        """A request waits for the end of the interval."""
        return self._deferred is not None

    def _fire(self) -> None:
        self._deferred = None
        self._last = time.monotonic()
        if self._send():
            self.sent += 1

    def cancel(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
