"""Guards for what aiortc and aioice do not survive alone (security-bar section 0).

See the package docstring for what is reached into and why.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import aioice.ice
import pylibsrtp
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter

from meetwarden.rtc.consent import install_consent_checks

from ..log_limits import LogLimiter
from .stun_limits import limit_unauthenticated_answers

__all__ = ["GuardCounters", "guard_counters", "install_transport_guards"]

logger = logging.getLogger(__name__)


class GuardCounters:
    """How many datagrams the transport guards dropped (process-wide)."""

    def __init__(self) -> None:
        self.empty_datagrams = 0
        self.malformed_stun = 0
        self.unprotect_failed = 0
        """SRTP/SRTCP datagrams that could not be unprotected (forged, replayed, too long)."""
        self.receive_errors = 0
        """Datagrams that raised anything else on their way through aiortc's receive path."""
        self.protect_failed = 0
        """Forwarded packets SRTP refused to protect (too long, too far behind)."""
        self.malformed_rtcp = 0
        """RTCP packets whose feedback aiortc could not read while routing them."""


guard_counters = GuardCounters()
_guards_installed = False
_lines = LogLimiter()
# aioice's and aiortc's own code, kept so that tests can show what happens without the guards.
unguarded_datagram_received = aioice.ice.StunProtocol.datagram_received
unguarded_recv_next = RTCDtlsTransport._recv_next
unguarded_setup_srtp = RTCDtlsTransport._setup_srtp
unguarded_route_rtcp = RtpRouter.route_rtcp


def install_transport_guards() -> None:
    """Guard aioice's and aiortc's receive paths, process-wide (idempotent).

    V1: aioice queues every non-STUN datagram, from any address, for the DTLS
    transport, whose ``data[0]`` raises IndexError on an empty one and closes
    the participant's connection. V2: ``stun.parse_message`` raises
    ``struct.error`` for fixed-size attributes of the wrong length; aioice
    catches only ValueError, so each such packet put a traceback in the log.
    SRTP: see ``_GuardedUnprotect`` and ``_guarded_recv_next``. V3: see
    ``stun_limits``. Consent checks that a slow answer does not end: see ``consent``.
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
            _lines.log(logger, logging.WARNING, "stun", "dropped a malformed STUN datagram")

    aioice.ice.StunProtocol.datagram_received = datagram_received  # type: ignore[method-assign]
    RTCDtlsTransport._setup_srtp = _guarded_setup_srtp  # type: ignore[method-assign]
    RTCDtlsTransport._recv_next = _guarded_recv_next  # type: ignore[method-assign]
    RtpRouter.route_rtcp = _guarded_route_rtcp  # type: ignore[method-assign]
    limit_unauthenticated_answers()
    install_consent_checks()
    _guards_installed = True


# --------------------------------------------------------------------------- SRTP


def _dropped(what: str, data: bytes, error: Exception) -> None:
    guard_counters.unprotect_failed += 1
    # libsrtp's own refusals (a forged tag, a replay) happen to honest streams too; any
    # other exception is a datagram pylibsrtp would not even hand to libsrtp.
    level = logging.INFO if isinstance(error, pylibsrtp.Error) else logging.WARNING
    _lines.log(
        logger,
        level,
        (what, type(error)),
        "dropped a %s datagram of %d bytes that could not be unprotected: %r",
        what,
        len(data),
        error,
    )


class _GuardedUnprotect:
    """The receive side of an SRTP session whose every failure is a ``pylibsrtp.Error``.

    aiortc catches only ``pylibsrtp.Error`` around unprotect (rtcdtlstransport.py
    l.692-700), but pylibsrtp raises ValueError("packet is too long") for a
    datagram over 1,500 bytes before libsrtp sees it: one such datagram from any
    address ended the transport's receive loop, and the participant's
    connection with it. Every failure is now counted and becomes the error
    aiortc drops the datagram for.
    """

    __slots__ = ("_session",)

    def __init__(self, session: pylibsrtp.Session) -> None:
        self._session = session

    def unprotect(self, data: bytes) -> bytes:
        try:
            return self._session.unprotect(data)
        except Exception as error:
            _dropped("SRTP", data, error)
            raise pylibsrtp.Error(str(error)) from None

    def unprotect_rtcp(self, data: bytes) -> bytes:
        try:
            return self._session.unprotect_rtcp(data)
        except Exception as error:
            _dropped("SRTCP", data, error)
            raise pylibsrtp.Error(str(error)) from None


def _guarded_setup_srtp(self: RTCDtlsTransport) -> None:
    unguarded_setup_srtp(self)
    session = self._rx_srtp
    if session is not None and not isinstance(session, _GuardedUnprotect):
        self._rx_srtp = _GuardedUnprotect(session)


async def _guarded_recv_next(self: RTCDtlsTransport) -> None:
    """aiortc's receive step, where a datagram that raises is dropped, not the transport.

    ``RTCDtlsTransport.__run`` ends the transport on any exception but
    ConnectionError (rtcdtlstransport.py l.538-550); aiortc's parsers and
    routers raise more than the ValueError they catch. An exception raised once
    the datagram was taken from the queue (the receive counter moved) is a
    datagram to drop; ConnectionError (the remote party shut DTLS down, the ICE
    transport closed) and anything raised before a datagram was taken still end
    the transport, so a broken transport cannot spin here.
    """
    taken = self._RTCDtlsTransport__rx_packets  # type: ignore[attr-defined]
    try:
        await unguarded_recv_next(self)
    except Exception as error:
        if isinstance(error, ConnectionError):
            raise
        if self._RTCDtlsTransport__rx_packets == taken:  # type: ignore[attr-defined]
            raise
        guard_counters.receive_errors += 1
        _lines.log(
            logger,
            logging.WARNING,
            ("receive", type(error)),
            "dropped a datagram that raised in aiortc's receive path: %r",
            error,
        )


def _guarded_route_rtcp(self: RtpRouter, packet: Any) -> Any:
    """aiortc's RTCP routing, where a packet whose feedback cannot be read goes nowhere.

    ``route_rtcp`` reads a REMB's list of SSRCs (rtcdtlstransport.py l.300) and
    catches ValueError only; a REMB that counts more SSRCs than it carries raises
    struct.error (found by tests/fuzz, rtcp target), which ended the transport
    before the receive guard.
    """
    try:
        return unguarded_route_rtcp(self, packet)
    except Exception as error:
        guard_counters.malformed_rtcp += 1
        _lines.log(
            logger,
            logging.INFO,
            ("route", type(error)),
            "dropped an RTCP packet whose feedback could not be read: %r",
            error,
        )
        return set()
