"""What a subscriber still misses of one forwarded stream, as far as its NACKs tell.

A stream paused for a subscriber's link goes on with the packets the subscriber still
misses, sent again (``subscriber.py``): an aiortc receiver waits for every hole before
the resumed packets until 512 more have come (jitterbuffer.py), about ten seconds of a
camera. Its NACKs name only the holes within 128 sequence numbers of the newest packet
it has (rtcrtpreceiver.py ``NackGenerator.truncate``, RTP_HISTORY_SIZE), so when the
pause comes more than 128 packets after a hole, its last NACK no longer names it
(a slow pause, on a busy machine). So each hole a NACK named is remembered until a
later NACK shows it filled (the receiver would still name it: it lies within 128 of
the newest packet sent then, so within its window) or it lies further back than the
receiver waits for.

Pure: the newest sequence number sent is passed in.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NAMED_WINDOW", "WAITED_FOR", "MissingPackets"]

NAMED_WINDOW: Final = 128
"""Sequence numbers behind its newest packet within which an aiortc receiver names a hole
(rtp.py ``RTP_HISTORY_SIZE``)."""
WAITED_FOR: Final = 512
"""Sequence numbers after a hole that an aiortc receiver waits for it (its video jitter
buffer's capacity, rtcrtpreceiver.py); a hole further back is given up on."""


class MissingPackets:
    """The holes one subscriber's NACKs named on one stream and no later NACK showed filled."""

    __slots__ = ("_holes",)

    def __init__(self) -> None:
        self._holes: dict[int, None] = {}  # in the order first named

    def named(self, lost: list[int], newest_sent: int) -> None:
        """A NACK named ``lost`` when the newest packet sent had ``newest_sent``."""
        named = set(lost)
        for seq in list(self._holes):
            behind = (newest_sent - seq) & 0xFFFF
            # Within the receiver's window and not named: it arrived. Too far back, or
            # ahead of anything sent (a NACK naming what was never sent): forgotten.
            if (behind < NAMED_WINDOW and seq not in named) or behind >= WAITED_FOR:
                del self._holes[seq]
        for seq in lost:
            if (newest_sent - seq) & 0xFFFF < WAITED_FOR:
                self._holes[seq] = None

    def still_missing(self, newest_sent: int) -> list[int]:
        """The remembered holes the receiver still waits for, the oldest first."""
        waited = [seq for seq in self._holes if (newest_sent - seq) & 0xFFFF < WAITED_FOR]
        return sorted(waited, key=lambda seq: -((newest_sent - seq) & 0xFFFF))
