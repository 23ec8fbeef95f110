"""A bot's video decodes again at the next keyframe after a packet that never came.

aiortc's receiver (1.16, ``rtcrtpreceiver.py``) asks again for a missing video
packet (NACK) only while it is within ``RTP_HISTORY_SIZE`` (128) packets of the
newest, and its video ``JitterBuffer`` (capacity 512) holds every later frame
behind the missing one until 512 more packets came, then lets frames go one at a
time. A packet lost for good (congestion, a stream paused and resumed, a
simulcast layer switched while the link dropped packets) left a bot without
video for 10 to 30 seconds, keyframes included.

A browser's receiver does what RFC 4585 (6.3.1) describes: when a lost packet
will not be repaired it asks for a picture (PLI), and it decodes a keyframe past
the gap, dropping the frames before it (libwebrtc's ``PacketBuffer`` and frame
buffer). ``KeyframeJitterBuffer`` does the same for the SDK's video receivers:

- waiting at a missing packet, a keyframe that starts later in the buffer ends
  the wait: the frames before it are dropped (none is needed to decode it);
- a missing packet that NACK no longer names (128 packets behind the newest)
  asks the sender for a keyframe, once per missing packet.

Keyframes are recognised in the two codecs aiortc receives: VP8 (RFC 7741: the
payload descriptor's S bit and partition 0, then the frame tag's key bit) and
H.264 (a sequence parameter set, or the first slice of an IDR picture).
"""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import uint16_add

from .video_receivers import video_receivers

__all__ = ["KeyframeJitterBuffer", "recover_at_keyframes", "starts_keyframe"]

_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
"""Where aiortc 1.16 keeps a receiver's jitter buffer (``RTCRtpReceiver.__init__``)."""
_START_CODE = b"\x00\x00\x00\x01"
_H264_IDR, _H264_SPS = 5, 7  # NAL unit types (H.264 table 7-1)


def starts_keyframe(packet: RtpPacket) -> bool:
    """True if this packet, depayloaded by aiortc (``packet._data``), is the first of a
    VP8 or H.264 keyframe."""
    data: bytes = getattr(packet, "_data", b"")
    if not data or not packet.payload:
        return False
    if data.startswith(_START_CODE):  # aiortc's H.264 depayloader starts each unit so
        if len(data) < 6:
            return False
        unit = data[4] & 0x1F
        # An SPS begins a keyframe; so does an IDR slice whose first_mb_in_slice is 0
        # (ue(v) 0 is the single bit 1), where the parameter sets came before.
        return unit == _H264_SPS or (unit == _H264_IDR and data[5] & 0x80 != 0)
    descriptor = packet.payload[0]
    first_of_frame = descriptor & 0x10 and descriptor & 0x07 == 0  # S=1, partition 0
    return bool(first_of_frame) and data[0] & 0x01 == 0  # VP8 frame tag: 0 is a keyframe


class KeyframeJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer that skips to a keyframe past a missing packet."""

    def __init__(self, capacity: int = 512) -> None:
        super().__init__(capacity=capacity, is_video=True)
        self._asked: int | None = None
        """The missing packet a keyframe was last asked for."""
        self._hole: int | None = None
        """The missing packet found last (found again while it is still missing)."""
        self.skipped = 0
        """Packets dropped to decode a keyframe past a missing one (for tests and logs)."""

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        ask, frame = super().add(packet)
        origin = self._origin
        if frame is not None or origin is None:
            return ask, frame
        ahead = uint16_add(packet.sequence_number, -origin)
        if not 0 < ahead < self._capacity:
            return ask, frame  # the origin itself, or a late packet not taken in
        keyframe = starts_keyframe(packet)
        if not keyframe and ahead < RTP_HISTORY_SIZE:
            return ask, frame  # a hole this close is still NACKed
        hole = self._hole_before(origin, ahead)
        if hole is None:
            return ask, frame  # no packet missing: the frame is only not complete yet
        if keyframe:
            self.skipped += sum(
                1 for n in range(ahead) if self._packets[(origin + n) % self._capacity]
            )
            self.remove(ahead)
            return ask, self._remove_frame(packet.sequence_number)
        if uint16_add(packet.sequence_number, -hole) >= RTP_HISTORY_SIZE and hole != self._asked:
            self._asked = hole  # NACK no longer names it: only a keyframe helps
            return True, frame
        return ask, frame

    def _hole_before(self, origin: int, ahead: int) -> int | None:
        """The sequence number of a packet missing between the origin and ``ahead``
        packets after it, if any (the one found last time while it is still missing)."""
        capacity = self._capacity
        known = self._hole
        if (
            known is not None
            and uint16_add(known, -origin) < ahead
            and self._packets[known % capacity] is None
        ):
            return known
        for n in range(ahead):
            if self._packets[(origin + n) % capacity] is None:
                self._hole = uint16_add(origin, n)
                return self._hole
        return None


def recover_at_keyframes(pc: RTCPeerConnection) -> None:
    """Gives each video receiver of ``pc`` that has not received yet a
    ``KeyframeJitterBuffer``; call after each ``setRemoteDescription`` (receivers are
    made there), before media flows to the new ones."""
    for receiver in video_receivers(pc):
        current = getattr(receiver, _JITTER_BUFFER, None)
        if type(current) is JitterBuffer and current._origin is None:
            setattr(receiver, _JITTER_BUFFER, KeyframeJitterBuffer(current.capacity))
