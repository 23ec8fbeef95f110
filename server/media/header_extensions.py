"""RTP header extensions (RFC 8285): read one element, build a block, read ``a=extmap``.

An extension block follows the fixed header and the CSRCs when the X bit is
set (RFC 3550 5.3.1): a 16-bit profile, a 16-bit length in 32-bit words, then
the elements. Profile 0xBEDE is the one-byte form (RFC 8285 4.2: a byte of
4-bit id and 4-bit length minus one, ids 1 to 14, 15 reserved: "stop
processing"); 0x100x the two-byte form (4.3: a byte of id, a byte of length).
Zero bytes between elements are padding in both.

The publisher's block is never copied to a subscriber: ids are negotiated per
connection (RFC 8285 5), so the forwarder writes each subscriber's own block
(``OutgoingExtensions``). Reading is on the hot path of every microphone
packet: ``find_element`` never raises on a malformed block, it returns None.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence

__all__ = [
    "ABS_SEND_TIME",
    "AUDIO_LEVEL",
    "MID",
    "OutgoingExtensions",
    "abs_send_time",
    "build_block",
    "extension_ids",
    "find_element",
]

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
"""RFC 8843 15.2: the m-line's mid, so a receiver maps an unsignalled SSRC to it."""
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
"""RFC 6464: voice activity bit and the level in -dBov (0 loudest, 127 silence)."""
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
"""webrtc.org abs-send-time: send time, 24 bits of 6.18 fixed-point seconds."""

_ONE_BYTE = 0xBEDE
_RTP_HEADER = struct.Struct("!BBHII")
# RTP header, then the block's profile/length word and the abs-send-time element.
_HEADER_ABS = struct.Struct("!BBHIIII")
_now = time.time


def find_element(data: bytes, ext_id: int) -> bytes | None:
    """The value of extension element ``ext_id`` in an RTP packet, or None.

    None when the packet has no block, the block runs past the packet, an
    element runs past the block, or a one-byte block reaches id 15 first (RFC
    8285 4.2: the rest of the block is not to be read).
    """
    size = len(data)
    if size < 16:
        return None
    first = data[0]
    if not first & 0x10:
        return None
    start = 12 + 4 * (first & 0x0F)
    if size < start + 4:
        return None
    profile = (data[start] << 8) | data[start + 1]
    end = start + 4 + 4 * ((data[start + 2] << 8) | data[start + 3])
    if end > size:
        return None
    pos = start + 4
    if profile == _ONE_BYTE:
        while pos < end:
            byte = data[pos]
            pos += 1
            if byte == 0:
                continue  # padding
            element = byte >> 4
            if element == 15:
                return None
            length = (byte & 0x0F) + 1
            if pos + length > end:
                return None
            if element == ext_id:
                return data[pos : pos + length]
            pos += length
    elif profile & 0xFFF0 == 0x1000:
        while pos < end:
            element = data[pos]
            pos += 1
            if element == 0:
                continue  # padding
            if pos >= end:
                return None
            length = data[pos]
            pos += 1
            if pos + length > end:
                return None
            if element == ext_id:
                return data[pos : pos + length]
            pos += length
    return None


def build_block(elements: Sequence[tuple[int, bytes]]) -> bytes:
    """An extension block (its 4-byte header included) carrying ``elements``; b"" if none.

    The one-byte form when every id is 1 to 14 and every value 1 to 16 bytes, the
    two-byte form otherwise (RFC 8285 4.2, 4.3); padded with zeros to 32 bits.
    ValueError for an id or a value no form can carry.
    """
    if not elements:
        return b""
    one_byte = all(1 <= i <= 14 and 1 <= len(v) <= 16 for i, v in elements)
    body = bytearray()
    for element_id, value in elements:
        if one_byte:
            body.append((element_id << 4) | (len(value) - 1))
        else:
            if not 1 <= element_id <= 255 or len(value) > 255:
                raise ValueError(f"extension {element_id} of {len(value)} bytes")
            body += bytes((element_id, len(value)))
        body += value
    body += bytes(-len(body) % 4)
    profile = _ONE_BYTE if one_byte else 0x1000
    return struct.pack("!HH", profile, len(body) // 4) + bytes(body)


def abs_send_time(now: float | None = None) -> int:
    """abs-send-time for ``now`` (Unix seconds): 6.18 fixed point, modulo 64 s.

    aiortc writes ``(ntp >> 14) & 0xFFFFFF`` (rtcrtpsender.py ``_run_rtp``); the NTP
    and Unix epochs are 2,208,988,800 s apart, a multiple of 64, so the value is
    the same from Unix time.
    """
    return int((time.time() if now is None else now) * 262144.0) & 0xFFFFFF


class OutgoingExtensions:
    """One subscriber's extension block for one m-line: its mid, and abs-send-time
    stamped per packet.

    The block is built once; per packet only the abs-send-time word changes.
    ``header(first, second, seq, ts, ssrc)`` returns the RTP header with the block,
    ``first`` without the X bit (it is set here).
    """

    __slots__ = ("_abs_word", "_pack", "_profile_word", "_static", "_tail", "has_abs_send_time")

    def __init__(self, mid: str | None, mid_id: int | None, abs_id: int | None) -> None:
        """``mid_id``/``abs_id``: the ids the subscriber negotiated (None: not negotiated).

        abs-send-time is written only in the one-byte form (ids 1 to 14): the ids are
        those of the server's own offer (aiortc's, 1 to 3), so the two-byte form is
        never needed for it.
        """
        elements = [(mid_id, mid.encode())] if mid and mid_id is not None else []
        one_byte = all(1 <= i <= 14 and len(v) <= 16 for i, v in elements)
        self.has_abs_send_time = abs_id is not None and 1 <= abs_id <= 14 and one_byte
        self._abs_word = self._profile_word = 0
        self._tail = self._static = b""
        self._pack = _HEADER_ABS.pack
        if self.has_abs_send_time:
            assert abs_id is not None
            # The abs-send-time element first: its header byte and 3 value bytes make
            # one 32-bit word, written with the fixed header in one struct call.
            self._tail = build_block(elements)[4:]
            self._abs_word = ((abs_id << 4) | 2) << 24
            self._profile_word = (_ONE_BYTE << 16) | (1 + len(self._tail) // 4)
            # The rest of the block (the mid) in the same struct call: no concatenation.
            self._pack = struct.Struct(f"!BBHIIII{len(self._tail)}s").pack
        else:
            self._static = build_block(elements)

    @property
    def empty(self) -> bool:
        """Nothing to write: the subscriber negotiated neither extension."""
        return not self.has_abs_send_time and not self._static

    def header(self, first: int, second: int, seq: int, timestamp: int, ssrc: int) -> bytes:
        """The 12-byte RTP header with the X bit set, then this block, stamped now."""
        if self.has_abs_send_time:
            return self._pack(
                first | 0x10,
                second,
                seq,
                timestamp,
                ssrc,
                self._profile_word,
                self._abs_word | (int(_now() * 262144.0) & 0xFFFFFF),
                self._tail,
            )
        return _RTP_HEADER.pack(first | 0x10, second, seq, timestamp, ssrc) + self._static


def extension_ids(sdp_text: str, *, sending: bool) -> dict[str, dict[str, int]]:
    """The ``a=extmap`` ids of each m-line, by mid, then by URI (RFC 8285 5, 6).

    ``sending``: this side sends on the m-lines (a subscriber's answer); an
    extension the SDP's author marked ``sendonly`` (or ``recvonly`` when it is
    the sender) or ``inactive`` is left out. Lines that do not parse are ignored.
    """
    unusable = {"inactive", "sendonly" if sending else "recvonly"}
    found: dict[str, dict[str, int]] = {}
    section: dict[str, int] = {}
    for raw in sdp_text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            section = {}  # extmaps before the first m-line (session level) are not read
        elif line.startswith("a=mid:"):
            found[line[6:]] = section
        elif line.startswith("a=extmap:"):
            parts = line[9:].split()
            if len(parts) < 2:
                continue
            number, _, direction = parts[0].partition("/")
            if direction in unusable or not number.isdigit():
                continue
            value = int(number)
            if 1 <= value <= 255:
                section[parts[1]] = value
    return found
