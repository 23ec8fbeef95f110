"""Forged RTP for the adversary: packets the server never agreed to, written past aiortc.

Each packet carries ``counting.MARKER`` in its payload. A video one starts like
a whole VP8 keyframe (RFC 7741 4.2-4.3: payload descriptor with S=1 and
partition 0, a keyframe's frame tag, the start code, 160x120), so a forwarder
that waits for a keyframe before it starts a subscriber would start on it; an
audio one starts with an Opus TOC byte (RFC 6716 3.1: CELT, 20 ms, mono).
"""

from __future__ import annotations

import struct
from typing import Any

from .counting import MARKER

__all__ = ["MID_URI", "inactive", "is_rtcp", "mid_extension", "packet", "write"]

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
_VP8_KEYFRAME = b"\x10" + b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", 160, 120)
_OPUS_TOC = b"\xfc"


def is_rtcp(data: bytes) -> bool:
    """RTCP's packet types (RFC 5761 4) share the byte where RTP has its payload type."""
    return len(data) > 1 and 192 <= data[1] <= 223


def mid_extension(extension_id: int, mid: str) -> bytes:
    """An RFC 8285 one-byte header-extension block carrying the mid."""
    data = mid.encode()
    element = bytes([(extension_id << 4) | (len(data) - 1)]) + data
    element += b"\x00" * (-len(element) % 4)
    return struct.pack("!HH", 0xBEDE, len(element) // 4) + element


def packet(
    ssrc: int,
    payload_type: int,
    sequence: int,
    timestamp: int,
    extension: bytes,
    kind: str,
    number: int,
) -> bytes:
    """One forged RTP packet (RFC 3550 5.1); each video packet is a whole frame (marker set)."""
    first = 0x80 | (0x10 if extension else 0)
    second = payload_type | (0x80 if kind == "video" else 0)
    header = struct.pack("!BBHII", first, second, sequence, timestamp, ssrc)
    start = _VP8_KEYFRAME if kind == "video" else _OPUS_TOC
    return header + extension + start + MARKER + number.to_bytes(4, "big") + bytes(60)


async def write(dtls: Any, data: bytes) -> bool:
    """Protects and sends one RTP packet; on a transport aiortc closed, sends it anyway."""
    try:
        await dtls._send_rtp(data)
        return True
    except ConnectionError:
        pass
    try:  # a stubborn client: its SRTP keys and ICE pair may outlive the DTLS state
        await dtls.transport._send(dtls._tx_srtp.protect(data))
        return True
    except Exception:
        return False


def inactive(offer_sdp: str, mids: set[str]) -> str:
    """The offer with these m-lines marked ``a=inactive`` (the sender keeps its SSRC lines)."""
    sections = offer_sdp.split("\r\nm=")
    for index, section in enumerate(sections):
        lines = section.split("\r\n")
        mid = next((line[6:] for line in lines if line.startswith("a=mid:")), None)
        if index and mid in mids:
            for direction in ("a=sendonly", "a=sendrecv", "a=recvonly"):
                section = section.replace(f"\r\n{direction}\r\n", "\r\na=inactive\r\n")
            sections[index] = section
    return "\r\nm=".join(sections)
