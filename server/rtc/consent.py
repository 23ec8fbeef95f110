"""Consent freshness (RFC 7675) that a slow answer does not end.

aioice checks consent every 4 to 6 seconds with one Binding request whose
transaction ends 0.5 s after it is sent (``retransmissions=0``, stun.py
``RETRY_RTO``), and closes the connection after six checks in a row went
unanswered in that time (ice.py ``query_consent``). An answer that comes 0.6 s
late is thrown away with its transaction. So a peer whose answers are slow but
steady (a loaded phone or laptop, a link with a second of bufferbloat, a
server whose event loop was busy for half a second around each check: libuv
runs expired timers before it polls for the datagram that answers them) loses
its connection after about 30 seconds, although the peer never stopped
answering. Seen on this project's CI: a browser's publishing connection closed
by the server while both ends worked ("the publish connection ... failed
(lost)"), and with it the camera everyone was watching.

RFC 7675 section 5.1 says what expires: consent ends 30 seconds after the last
response to a consent check that was received, whichever check it answered.
Here each check's transaction stays open for ``ANSWER_WINDOW`` seconds (its
retransmissions included, RFC 8489 6.2.1 timing), within the interval before
the next check, and every answer received refreshes consent; the connection is
closed ``CONSENT_EXPIRY`` seconds after the last one, as aioice closed it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import aioice.ice
import aioice.stun

__all__ = [
    "ANSWER_RETRANSMISSIONS",
    "CONSENT_EXPIRY",
    "CONSENT_INTERVAL",
    "install_consent_checks",
    "stock_query_consent",
]

logger = logging.getLogger(__name__)

CONSENT_INTERVAL = 5.0
"""Seconds between two checks, each drawn from 0.8 to 1.2 times this (RFC 7675 5.1)."""
CONSENT_EXPIRY = 30.0
"""Seconds after the last answer at which consent expires (RFC 7675 5.1)."""
ANSWER_RETRANSMISSIONS = 2
"""A check is sent again after 0.5 and 1.5 s and answered until 3.5 s (RFC 8489 6.2.1):
the whole window fits before the next check (at least 4 s later)."""

stock_query_consent = aioice.ice.Connection.query_consent
"""aioice's own, kept so that a test can show what happens without this module."""
_installed = False


async def _query_consent(
    self: aioice.ice.Connection, clock: Callable[[], float] = time.monotonic
) -> None:
    """Check consent until it expires, then close the connection (as aioice does)."""
    assert self.remote_password is not None  # consent checks start after connect()
    key = self.remote_password.encode("utf8")
    answered = clock()
    checks: set[asyncio.Task[None]] = set()

    async def check(pair: aioice.ice.CandidatePair) -> None:
        nonlocal answered
        request = self.build_request(pair, nominate=False)
        try:
            await pair.protocol.request(
                request,
                pair.remote_addr,
                integrity_key=key,
                retransmissions=ANSWER_RETRANSMISSIONS,
            )
        except aioice.stun.TransactionError:
            return  # unanswered (or refused): consent is not refreshed
        answered = clock()

    try:
        while True:
            await asyncio.sleep(CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
            if clock() - answered >= CONSENT_EXPIRY:
                logger.info("%s Consent to send expired", self)
                self._query_consent_task = None
                await self.close()
                return
            for pair in list(self._nominated.values()):
                task = asyncio.create_task(check(pair))
                checks.add(task)
                task.add_done_callback(checks.discard)
    finally:
        for task in checks:
            task.cancel()


def install_consent_checks() -> None:
    """Replace aioice's ``Connection.query_consent`` (ice.py l.1249), process-wide;
    idempotent."""
    global _installed
    if _installed:
        return
    aioice.ice.Connection.query_consent = _query_consent  # type: ignore[method-assign]
    _installed = True
