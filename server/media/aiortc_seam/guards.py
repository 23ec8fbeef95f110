"""Guards for what aiortc and aioice do not survive alone (security-bar section 0).

See the package docstring for what is reached into and why.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import aioice.ice

__all__ = ["GuardCounters", "guard_counters", "install_transport_guards"]

logger = logging.getLogger(__name__)


class GuardCounters:
    """How many datagrams the transport guards dropped (process-wide)."""

    def __init__(self) -> None:
        self.empty_datagrams = 0
        self.malformed_stun = 0


guard_counters = GuardCounters()
_guards_installed = False
# aioice's own handler, kept so that tests can show what happens without the guards.
unguarded_datagram_received = aioice.ice.StunProtocol.datagram_received


def install_transport_guards() -> None:
    """Drop empty datagrams (V1) and malformed STUN (V2) in aioice, process-wide. Idempotent.

    V1: aioice queues every non-STUN datagram, from any address, for the DTLS
    transport, whose ``data[0]`` raises IndexError on an empty one and closes
    the participant's connection. V2: ``stun.parse_message`` raises
    ``struct.error`` for fixed-size attributes of the wrong length; aioice
    catches only ValueError, so each such packet put a traceback in the log.
    """
    global _guards_installed
    if _guards_installed:
        return
    original = unguarded_datagram_received

    def datagram_received(self: aioice.ice.StunProtocol, data: Any, addr: Any) -> None:
        if not data:
            guard_counters.empty_datagrams += 1
            return
        try:
            original(self, data, addr)
        except struct.error:
            guard_counters.malformed_stun += 1
            if guard_counters.malformed_stun == 1:
                logger.warning("dropping malformed STUN datagrams (first from %s)", addr)

    aioice.ice.StunProtocol.datagram_received = datagram_received  # type: ignore[method-assign]
    _guards_installed = True
