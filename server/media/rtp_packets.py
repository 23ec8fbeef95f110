"""RTP and RTCP bytes, read and written with ``struct``: no aiortc, no parsing objects.

The forwarder never builds an ``RtpPacket``: aiortc's pure-Python parse costs as
much as the SRTP crypto (performance-research 3.1). It reads the fixed header,
skips CSRCs and the extension block (RFC 3550 5.1, 5.3.1) and rewrites the
12-byte header per subscriber. VP8 is read only at the start of a frame, to find
keyframes (RFC 7741 4.2-4.3, 9.1).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = [
    "RTP_HEADER",
    "RtpFields",
    "Vp8Start",
    "build_nack",
    "build_pli",
    "build_receiver_report",
    "build_remb",
    "parse_rtp",
    "unwrap_rtx",
    "vp8_depayload",
    "vp8_frame_start",
]

RTP_HEADER = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")
_PSFB = struct.Struct("!BBHII")

# RFC 4585 6.1: PSFB is RTCP packet type 206; FMT 1 is PLI (6.3.1), FMT 15 application
# layer feedback, which carries REMB (draft-alvestrand-rmcat-remb-03).
RTCP_PSFB = 206
PSFB_PLI = 1
PSFB_APPLICATION = 15
RTCP_RR = 201
# RFC 4585 6.1-6.2: RTPFB is RTCP packet type 205; FMT 1 is the generic NACK.
RTCP_RTPFB = 205
RTPFB_NACK = 1
_NACK_ITEM = struct.Struct("!HH")
MAX_NACK_ITEMS = 64
"""PID/BLP pairs per NACK packet (up to 1,088 packets asked for in 268 bytes)."""
_RTCP_HEADER = struct.Struct("!BBHI")
_REMB = struct.Struct("!BBHII4sI")


class RtpFields(NamedTuple):
    """What the forwarder needs from one RTP packet; ``body`` is the payload (and padding)."""

    ssrc: int
    payload_type: int
    sequence_number: int
    timestamp: int
    marker: bool
    padding: bool
    body: bytes


def parse_rtp(data: bytes) -> RtpFields | None:
    """Read an RTP packet's header; None for a packet to drop (short, bad version, padding only).

    The CSRC list and the header extension block are skipped: they carry the
    publisher's header-extension ids (mid, abs-send-time ...), which mean
    nothing on a subscriber's connection (RFC 8285 ids are per session).
    """
    size = len(data)
    if size < 12:
        return None
    first = data[0]
    if first >> 6 != 2:
        return None
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if size < offset + 4:
            return None
        offset += 4 + 4 * ((data[offset + 2] << 8) | data[offset + 3])
    end = size
    padding = bool(first & 0x20)
    if padding:
        end -= data[-1]
    if end <= offset:
        # RFC 3550 5.1: a packet of padding only (bandwidth probes) carries no media.
        return None
    second = data[1]
    sequence_number, timestamp, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
    return RtpFields(
        ssrc,
        second & 0x7F,
        sequence_number,
        timestamp,
        bool(second & 0x80),
        padding,
        data[offset:],
    )


class Vp8Start(NamedTuple):
    """The start of a VP8 frame: whether it is a keyframe, and its size if it is."""

    keyframe: bool
    width: int
    height: int


def _vp8_descriptor_length(payload: bytes) -> int:
    """Length of the VP8 payload descriptor (RFC 7741 4.2); ValueError if truncated."""
    if not payload:
        raise ValueError("empty VP8 payload")
    length = 1
    if payload[0] & 0x80:
        if len(payload) < 2:
            raise ValueError("truncated VP8 descriptor")
        extension = payload[1]
        length = 2
        if extension & 0x80:  # I: picture id, 7 or 15 bits (M flag)
            if len(payload) < 3:
                raise ValueError("truncated VP8 picture id")
            length += 2 if payload[2] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            length += 1
        if extension & 0x30:  # T or K: TID/KEYIDX byte
            length += 1
    if length > len(payload):
        raise ValueError("truncated VP8 descriptor")
    return length


def vp8_frame_start(payload: bytes) -> Vp8Start | None:
    """Vp8Start if this packet starts a VP8 frame (S=1, partition 0), else None."""
    if not payload or (payload[0] & 0x17) != 0x10:
        return None
    try:
        offset = _vp8_descriptor_length(payload)
    except ValueError:
        return None
    header = payload[offset : offset + 10]
    if not header:
        return None
    # RFC 7741 4.3: P, the inverse keyframe flag, is the lowest bit of the first byte.
    if header[0] & 0x01:
        return Vp8Start(False, 0, 0)
    if len(header) < 10 or header[3:6] != b"\x9d\x01\x2a":
        return None
    width = (header[6] | (header[7] << 8)) & 0x3FFF
    height = (header[8] | (header[9] << 8)) & 0x3FFF
    return Vp8Start(True, width, height)


def vp8_depayload(payloads: list[bytes]) -> bytes:
    """Concatenate the VP8 data of one frame's packets, descriptors removed."""
    return b"".join(payload[_vp8_descriptor_length(payload) :] for payload in payloads)


def build_pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    """An RTCP Picture Loss Indication (RFC 4585 6.3.1) asking media_ssrc for a keyframe."""
    return _PSFB.pack(0x80 | PSFB_PLI, RTCP_PSFB, 2, sender_ssrc, media_ssrc)


def build_receiver_report(sender_ssrc: int, blocks: list[bytes]) -> bytes:
    """An RTCP receiver report (RFC 3550 6.4.2) with up to 31 24-byte report blocks."""
    blocks = blocks[:31]
    length = 1 + 6 * len(blocks)  # in 32-bit words, minus one
    return _RTCP_HEADER.pack(0x80 | len(blocks), RTCP_RR, length, sender_ssrc) + b"".join(blocks)


def build_remb(sender_ssrc: int, bitrate: int, ssrcs: list[int]) -> bytes:
    """A REMB message: the most the sender of ``ssrcs`` should send, in bits per second."""
    ssrcs = ssrcs[:255]
    exponent = 0
    mantissa = max(int(bitrate), 0)
    while mantissa >= 1 << 18:  # an 18-bit mantissa and a 6-bit exponent
        mantissa >>= 1
        exponent += 1
    length = 4 + len(ssrcs)
    head = _REMB.pack(
        0x80 | PSFB_APPLICATION,
        RTCP_PSFB,
        length,
        sender_ssrc,
        0,  # the media source is unused (RFC 4585 6.4)
        b"REMB",
        (len(ssrcs) << 24) | (exponent << 18) | mantissa,
    )
    return head + b"".join(struct.pack("!I", ssrc) for ssrc in ssrcs)


def unwrap_rtx(fields: RtpFields, payload_type: int) -> RtpFields | None:
    """The original packet inside an RTX packet (RFC 4588 4): the first two bytes of the
    payload are its sequence number (OSN); None if nothing follows them. The SSRC stays
    the retransmission stream's: the caller knows which track it repairs."""
    body = fields.body
    end = len(body) - (body[-1] if fields.padding else 0)
    if end <= 2:
        return None  # an empty retransmission (or padding alone, a bandwidth probe)
    return RtpFields(
        fields.ssrc,
        payload_type,
        (body[0] << 8) | body[1],
        fields.timestamp,
        fields.marker,
        fields.padding,
        body[2:],
    )


def build_nack(sender_ssrc: int, media_ssrc: int, sequence_numbers: list[int]) -> bytes:
    """A generic NACK (RFC 4585 6.2.1) asking media_ssrc for these packets again.

    Each FCI names a packet (PID) and, in a bitmask (BLP), which of the 16 after
    it are lost too; at most ``MAX_NACK_ITEMS`` FCIs, the earliest packets first.
    A bitmask never reaches past 65535: aiortc 1.16 reads PID + d + 1 without
    wrapping it (rtp.py ``RtcpRtpfbPacket.parse``), so its sender would look for
    packet 65536 and resend nothing.
    """
    items: list[bytes] = []
    pending = sorted(set(sequence_numbers), key=lambda s: (s - sequence_numbers[0]) & 0xFFFF)
    index = 0
    while index < len(pending) and len(items) < MAX_NACK_ITEMS:
        first = pending[index]
        mask = 0
        index += 1
        while index < len(pending):
            distance = (pending[index] - first) & 0xFFFF
            if not 0 < distance <= 16 or first + distance > 0xFFFF:
                break
            mask |= 1 << (distance - 1)
            index += 1
        items.append(_NACK_ITEM.pack(first, mask))
    length = 2 + len(items)  # in 32-bit words, minus one
    header = _RTCP_HEADER.pack(0x80 | RTPFB_NACK, RTCP_RTPFB, length, sender_ssrc)
    return header + struct.pack("!I", media_ssrc) + b"".join(items)
