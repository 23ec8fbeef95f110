"""V3: answers to unauthenticated STUN requests, rate-limited per source address.

aioice answers every STUN request that reaches a media port, from anyone: a
bare 20-byte Binding request gets a 48-byte 400 error, 2.4 times its size
(security-bar V3), so a media port was an amplifier for whoever spoofs a
victim's address; CERTs flag STUN amplifiers from 3x
(https://github.com/netbirdio/netbird/issues/4959).

Only the answers that refuse a request as unauthenticated (400 Bad Request:
no USERNAME or MESSAGE-INTEGRITY, or not a Binding; 401: wrong credentials,
RFC 8489 9.1.3) are limited: a peer that got this connection's ICE password
through signalling never needs one, so they are a few per source address and
a few hundred per second in all. Authenticated checks are ICE itself and are
answered as aioice answers them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

import aioice.ice

from ..log_limits import LogLimiter

__all__ = [
    "PER_SOURCE_BURST",
    "PER_SOURCE_RATE",
    "TOTAL_BURST",
    "TOTAL_RATE",
    "StunAnswers",
    "TokenBuckets",
    "limit_unauthenticated_answers",
    "stun_answers",
]

logger = logging.getLogger(__name__)

PER_SOURCE_BURST = 5
PER_SOURCE_RATE = 1.0
"""Unauthenticated answers per second to one source address, after the burst."""
TOTAL_BURST = 200
TOTAL_RATE = 100.0
"""Unauthenticated answers per second from the whole process (spoofed sources are many)."""
_UNAUTHENTICATED = frozenset({400, 401})


class TokenBuckets:
    """One token bucket per key (``rate`` tokens a second, at most ``burst``), bounded in keys.

    Beyond ``max_keys`` the key seen least recently is forgotten; a forgotten
    key starts full again, which the process-wide bucket bounds in turn.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, updated)

    def take(self, key: Hashable) -> bool:
        """Take one token for ``key``; False if its bucket is empty."""
        now = self._clock()
        tokens, updated = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        if len(self._buckets) >= self._max_keys:
            del self._buckets[next(iter(self._buckets))]
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)  # now the newest
        return allowed


class StunAnswers:
    """Unauthenticated STUN requests answered and left unanswered (process-wide)."""

    def __init__(self) -> None:
        self.per_source = TokenBuckets(PER_SOURCE_RATE, PER_SOURCE_BURST)
        self.total = TokenBuckets(TOTAL_RATE, TOTAL_BURST, max_keys=1)
        self.answered = 0
        self.refused = 0

    def may_answer(self, address: str) -> bool:
        if self.per_source.take(address) and self.total.take(None):
            self.answered += 1
            return True
        self.refused += 1
        return False


stun_answers = StunAnswers()
_lines = LogLimiter()
_installed = False
unlimited_respond_error = aioice.ice.Connection.respond_error


def limit_unauthenticated_answers() -> None:
    """Wrap aioice's ``Connection.respond_error`` (ice.py l.1353), process-wide; idempotent."""
    global _installed
    if _installed:
        return
    original = unlimited_respond_error

    def respond_error(
        self: aioice.ice.Connection,
        request: Any,
        addr: tuple[str, int],
        protocol: Any,
        error_code: tuple[int, str],
    ) -> None:
        if error_code[0] in _UNAUTHENTICATED and not stun_answers.may_answer(addr[0]):
            _lines.log(
                logger,
                logging.INFO,
                "unanswered",
                "left an unauthenticated STUN request from %s unanswered (rate limit)",
                addr[0],
            )
            return
        original(self, request, addr, protocol, error_code)

    aioice.ice.Connection.respond_error = respond_error  # type: ignore[method-assign]
    _installed = True
