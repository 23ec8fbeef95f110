"""A bot asks again for a lost video packet whose retransmission was lost too.

aiortc's receiver (1.16, ``rtcrtpreceiver.py``) sends a NACK for its missing
packets only when a new gap appears (``NackGenerator.add``). When the
retransmission is lost as well and no other packet goes missing after it, the
packet is never asked for again: the picture waits at the hole until NACK gives
it up, 128 packets later, and a keyframe repairs it (``keyframes.py``).

A browser's receiver asks again: libwebrtc's ``NackRequester`` re-sends a NACK for
a packet still missing about once a round trip, up to ten times. Here each SDK
video receiver does the same on a timer that runs only while packets are
missing: ``REPEAT_AFTER`` seconds after a packet was last asked for, at most
``MAX_REQUESTS`` times in all. A packet NACK has given up (128 behind) is not
asked for again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import RtpPacket

from .video_receivers import video_receivers

__all__ = ["MAX_REQUESTS", "REPEAT_AFTER", "RepeatingNackGenerator", "repeat_nacks"]

REPEAT_AFTER = 0.15
"""Seconds before a packet still missing is asked for again: a round trip on most
links (libwebrtc waits one measured round trip; aiortc measures none)."""
MAX_REQUESTS = 10
"""Requests for one packet in all, the first included (libwebrtc's ``kMaxNackRetries``)."""
_NACK_GENERATOR = "_RTCRtpReceiver__nack_generator"
"""Where aiortc 1.16 keeps a video receiver's ``NackGenerator`` (``RTCRtpReceiver.__init__``)."""


class RepeatingNackGenerator(NackGenerator):
    """aiortc's NACK generator, asking again for what is still missing."""

    def __init__(self, send_nack: Any) -> None:
        super().__init__()
        self._send_nack = send_nack
        """The receiver's ``_send_rtcp_nack(media_ssrc, lost)``."""
        self._ssrc: int | None = None
        self._asked: dict[int, tuple[float, int]] = {}
        """Missing packet -> (when it was last asked for, how many times)."""
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Future[None]] = set()
        self.repeated = 0
        """NACKs sent again (for tests and logs)."""

    def add(self, packet: RtpPacket) -> bool:
        missed = super().add(packet)
        self._ssrc = packet.ssrc
        if missed:  # the receiver asks for every missing packet now
            now = asyncio.get_running_loop().time()
            asked = self._asked
            for sequence_number in self.missing:
                asked[sequence_number] = (now, asked.get(sequence_number, (now, 0))[1] + 1)
        if self.missing and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(REPEAT_AFTER, self._repeat)
        return missed

    def _repeat(self) -> None:
        self._timer = None
        now = asyncio.get_running_loop().time()
        asked = {seq: was for seq, was in self._asked.items() if seq in self.missing}
        # 0.9: the timer may fire a hair early on the loop's clock
        due = [
            seq
            for seq, (at, times) in asked.items()
            if now - at >= 0.9 * REPEAT_AFTER and times < MAX_REQUESTS
        ]
        for seq in due:
            asked[seq] = (now, asked[seq][1] + 1)
        self._asked = asked
        if due and self._ssrc is not None:
            self.repeated += 1
            # aiortc's _send_rtcp drops what a closed transport cannot send (ConnectionError)
            task = asyncio.ensure_future(self._send_nack(self._ssrc, sorted(due)))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        if any(times < MAX_REQUESTS for _, times in asked.values()):
            self._timer = asyncio.get_running_loop().call_later(REPEAT_AFTER, self._repeat)


def repeat_nacks(pc: RTCPeerConnection) -> None:
    """Gives each video receiver of ``pc`` that has not received yet a
    ``RepeatingNackGenerator``; call after each ``setRemoteDescription``."""
    for receiver in video_receivers(pc):
        current = getattr(receiver, _NACK_GENERATOR, None)
        if type(current) is NackGenerator and current.max_seq is None:
            setattr(receiver, _NACK_GENERATOR, RepeatingNackGenerator(receiver._send_rtcp_nack))
