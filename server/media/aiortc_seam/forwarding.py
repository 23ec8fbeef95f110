"""Forwarding through aiortc's internals: raw RTP in, protected RTP out, idle senders.

See the package docstring for what is reached into and why.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Sequence
from typing import Any

import aioice.ice
import aiortc.codecs.vpx
import pylibsrtp
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver
from aiortc.clock import current_ntp_time
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from ..log_limits import LogLimiter
from .guards import guard_counters

__all__ = [
    "ForwardedSender",
    "RtpSink",
    "idle_track",
    "intercept_publisher_media",
    "keep_codec",
    "negotiated_payload_type",
    "ntp_now",
    "pin_vp8_bitrate",
    "primary_transport",
    "restrict_host_addresses",
    "retransmission_of",
    "rtcp_ssrc",
]

logger = logging.getLogger(__name__)
_lines = LogLimiter()

_CONNECTED = State.CONNECTED


def ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp (RFC 3550 4)."""
    return current_ntp_time()


# --------------------------------------------------------------------------- addresses


def restrict_host_addresses(addresses: Sequence[str]) -> None:
    """Gather ICE host candidates on these addresses only (process-wide).

    aioice asks ``aioice.ice.get_host_addresses`` for every connection; tests
    and the benchmark keep all traffic on 127.0.0.1 this way.
    """
    chosen = list(addresses)
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(chosen)


# --------------------------------------------------------------------------- transports


def primary_transport(pc: RTCPeerConnection) -> RTCDtlsTransport | None:
    """The DTLS transport all media of a BUNDLE'd connection share (None before any m-line)."""
    for transceiver in pc.getTransceivers():
        return transceiver.receiver.transport
    sctp = pc.sctp
    return sctp.transport if sctp is not None else None


class RtpSink:
    """Sends finished RTP/RTCP packets on a DTLS transport, synchronously.

    Does what ``RTCDtlsTransport._send_rtp`` does (protect, then write to the
    nominated candidate pair) without its coroutine chain. Nothing is sent
    unless the transport is connected.
    """

    __slots__ = ("_address", "_dtls", "_nominated", "_pair", "_protect", "_sendto")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._nominated: dict[int, Any] = dtls.transport._connection._nominated
        self._pair: Any = None
        self._sendto: Callable[[bytes, Any], None] | None = None
        self._address: Any = None
        self._protect: Callable[[bytes], bytes] | None = None

    @property
    def connected(self) -> bool:
        return self._dtls._state is _CONNECTED

    @property
    def state(self) -> str:
        """The DTLS transport's state ("connected", "closed", ...), for an operator."""
        return str(self._dtls.state)

    def _route(self) -> bool:
        """Check the transport is connected and cache the nominated pair's socket."""
        if self._dtls._state is not _CONNECTED:
            return False
        pair = self._nominated.get(1)
        if pair is None:
            return False
        if pair is not self._pair:
            transport = pair.protocol.transport
            if transport.is_closing():
                return False
            self._pair = pair
            self._sendto = transport.sendto
            self._address = pair.remote_addr
            self._protect = None
        return True

    def send_rtp(self, packet: bytes) -> bool:
        """Protect and send one RTP packet; False if it was not sent (not connected, or
        SRTP refused it)."""
        if not self._route():
            return False
        protect = self._protect
        if protect is None:
            protect = self._protect = self._dtls._tx_srtp.protect
        try:
            protected = protect(packet)
        except (ValueError, pylibsrtp.Error) as error:
            _refused(packet, error)
            return False
        self._sendto(protected, self._address)  # type: ignore[misc]
        return True

    def send_rtcp(self, packet: bytes) -> bool:
        """Protect and send one RTCP (compound) packet; False if it was not sent."""
        if not self._route():
            return False
        try:
            protected = self._dtls._tx_srtp.protect_rtcp(packet)
        except (ValueError, pylibsrtp.Error) as error:
            _refused(packet, error)
            return False
        self._sendto(protected, self._address)  # type: ignore[misc]
        return True


def _refused(packet: bytes, error: Exception) -> None:
    """A packet SRTP would not protect: dropped for this subscriber alone.

    What a publisher sends decides it: pylibsrtp refuses more than 1,356 bytes
    of RTP (its 1,500-byte buffer less the largest trailer) with ValueError, and
    libsrtp refuses a sequence number more than its replay window (1,024) behind
    the highest one sent (``replay check failed``), which a publisher that jumps
    its numbering back and forth produces. Raised, either one skipped every
    later subscriber of the packet and wrote a traceback per packet.
    """
    guard_counters.protect_failed += 1
    _lines.log(
        logger,
        logging.INFO,
        ("protect", type(error)),
        "a forwarded packet of %d bytes was not sent: SRTP refused it (%s)",
        len(packet),
        error,
    )


def intercept_publisher_media(
    dtls: RTCDtlsTransport,
    on_rtp: Callable[[bytes], None],
    on_sender_report: Callable[[int, int, int], None],
) -> None:
    """Route a publisher's decrypted RTP to ``on_rtp`` instead of aiortc's receivers.

    ``on_sender_report(ssrc, ntp_timestamp, rtp_timestamp)`` is called for every
    RTCP sender report; all RTCP still reaches aiortc afterwards. An exception in
    ``on_rtp`` is logged and the packet dropped: it must never reach aiortc's
    receive loop, which would close the participant's transport.
    """
    original_rtcp = dtls._handle_rtcp_data

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        try:
            on_rtp(data)
        except Exception as error:
            guard_counters.receive_errors += 1
            _lines.log(
                logger,
                logging.ERROR,
                ("forwarding", type(error)),
                "forwarding an RTP packet failed; packet dropped",
                exc_info=True,
            )

    async def handle_rtcp_data(data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except Exception:  # aiortc's parser raises more than ValueError; aiortc drops it too
            return
        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                info = packet.sender_info
                on_sender_report(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)
        await original_rtcp(data)

    dtls._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]
    dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]


# --------------------------------------------------------------------------- senders


class _IdleTrack(MediaStreamTrack):
    """A track whose ``recv`` never returns: the sender's RTP loop waits forever.

    With no track at all, ``RTCRtpSender._run_rtp`` polls every 20 ms
    (rtcrtpsender.py:368-370); this one costs nothing.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.get_running_loop().create_future()


def idle_track(kind: str) -> MediaStreamTrack:
    """A track for a subscriber's sender: media arrives through ``RtpSink`` instead."""
    return _IdleTrack(kind)


class ForwardedSender:
    """The forwarder's handle on one subscriber's ``RTCRtpSender``.

    Keeps the sender's own RTCP loop (SR + SDES every 0.5-1.5 s, RTT from RRs)
    but gives it true packet and octet counts and a clock mapping, and takes
    the feedback it cannot act on.
    """

    __slots__ = ("_sender", "ssrc")

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self.ssrc: int = sender._ssrc

    def count(self, octets: int) -> None:
        """One more packet of ``octets`` payload bytes sent (RFC 3550 6.4.1 counts)."""
        sender = self._sender
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += octets  # type: ignore[attr-defined]

    @property
    def octets(self) -> int:
        """Payload octets sent so far (what ``count`` added up)."""
        return int(self._sender._RTCRtpSender__octet_count)  # type: ignore[attr-defined]

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        """The NTP/RTP timestamp pair the next sender reports carry (lip sync)."""
        sender = self._sender
        sender._RTCRtpSender__ntp_timestamp = ntp_timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = rtp_timestamp  # type: ignore[attr-defined]

    def intercept_feedback(
        self,
        on_nack: Callable[[list[int]], None],
        on_keyframe_request: Callable[[], None],
        on_report: Callable[[int, int], None] | None = None,
        on_remb: Callable[[int, tuple[int, ...]], None] | None = None,
    ) -> None:
        """Take NACKs, PLI/FIR and REMB addressed to this sender; other RTCP goes on to aiortc.

        ``on_report(extended highest sequence number, cumulative number lost)`` is
        called for this sender's block of every receiver report (which aiortc still
        reads, for the round-trip time).
        ``on_remb(bitrate, ssrcs)``: a receiver's estimate (draft-alvestrand-rmcat-remb),
        routed by aiortc to every sender it names (rtcdtlstransport.py ``route_rtcp``), so
        one REMB naming two SSRCs is heard twice. aiortc's sender would hand it to an
        encoder this sender does not have.
        """
        original = self._sender._handle_rtcp_packet
        ssrc = self.ssrc

        async def handle_rtcp_packet(packet: Any) -> None:
            if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
                if on_report is not None:
                    for report in packet.reports:
                        if report.ssrc == ssrc:
                            on_report(report.highest_sequence, report.packets_lost)
                await original(packet)
            elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                on_nack(list(packet.lost))
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (
                RTCP_PSFB_PLI,
                RTCP_PSFB_FIR,
            ):
                on_keyframe_request()
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                except (ValueError, struct.error):
                    return  # application feedback that is not a REMB, or a cut one
                if on_remb is not None:
                    on_remb(bitrate, tuple(ssrcs))
            else:
                await original(packet)

        self._sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def rtcp_ssrc(transceiver: RTCRtpTransceiver) -> int:
    """The SSRC this side uses as the sender of RTCP feedback on a transceiver."""
    return int(transceiver.sender._ssrc)


def negotiated_payload_type(transceiver: RTCRtpTransceiver) -> int | None:
    """The payload type of the first negotiated (non-RTX) codec, or None."""
    for codec in transceiver._codecs:
        if codec.mimeType.lower() != f"{transceiver.kind}/rtx":
            return codec.payloadType
    return None


def keep_codec(transceiver: RTCRtpTransceiver, mime_type: str) -> int | None:
    """After an offer is set, keep only ``mime_type`` (and its RTX) in the answer.

    Returns the codec's payload type, or None when the offer lacks it.
    """
    wanted = mime_type.lower()
    primary = [c for c in transceiver._codecs if c.mimeType.lower() == wanted]
    if not primary:
        return None
    payload_type = primary[0].payloadType
    if payload_type is None:
        return None
    rtx = [
        c
        for c in transceiver._codecs
        if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") == payload_type
    ]
    transceiver._codecs = primary[:1] + rtx[:1]
    return payload_type


def retransmission_of(transceiver: RTCRtpTransceiver, payload_type: int) -> tuple[int | None, bool]:
    """(RTX payload type or None, whether generic NACK was negotiated) for a kept codec.

    aiortc keeps in ``_codecs`` the feedback both sides offered
    (rtcpeerconnection.py ``find_common_codecs``); NACKs may be sent only if it
    includes ``nack`` without a parameter (RFC 4585 4.2).
    """
    rtx = None
    nack = False
    for codec in transceiver._codecs:
        if codec.mimeType.lower().endswith("/rtx"):
            if codec.parameters.get("apt") == payload_type:
                rtx = codec.payloadType
        elif codec.payloadType == payload_type:
            nack = any(f.type == "nack" and not f.parameter for f in codec.rtcpFeedback)
    return rtx, nack


def pin_vp8_bitrate(bits_per_second: int) -> None:
    """Make aiortc's VP8 encoder ignore REMB and send at a fixed rate (process-wide)."""
    vpx: Any = aiortc.codecs.vpx
    vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = bits_per_second
