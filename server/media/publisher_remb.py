"""The REMB a publisher is sent: what its viewers can take, not a fixed ceiling.

For each video track the publisher is asked for the most that any of its
viewers can take (``viewer_bitrate``: the largest share of a viewer's
estimate, ``subscriber_bandwidth``), never the least: one slow viewer must not
lower what the others get (it is paused instead, or, with simulcast, sent a
lower layer). Capped by the source's ceiling (``publisher.MAX_BITRATE``), and
the ceiling itself while any viewer has no limit known, or there is no viewer.
Audio tracks count at their ceiling. Chromium and aiortc read one REMB for all
the SSRCs it names (draft-alvestrand-rmcat-remb-03 2.2), so the total goes in one.

A viewer's estimate moves every second; the value sent moves only when the
target leaves a band of ``BAND`` around it, down at most once per ``HOLD``
seconds and up once per ``HOLD_UP``, so that a publisher's encoder is not
retuned every report. Pure:
time is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

__all__ = ["BAND", "HOLD", "HOLD_UP", "RembTrack", "ViewerRemb"]

BAND = 0.10
"""A target within this share of the value sent leaves it as it is."""
HOLD = 2.0
"""Seconds after a change of one track's value before it may go down again."""
HOLD_UP = 5.0
"""Seconds after a change before it may go up: aiortc rebuilds a publisher's encoder
(and sends a keyframe) on each REMB that moves it by 10 % (codecs/vpx.py)."""


class RembTrack(Protocol):
    """What is read of a published track."""

    @property
    def source(self) -> str: ...

    @property
    def video(self) -> bool: ...


class ViewerRemb:
    """The bits per second one publisher is asked for, track by track."""

    def __init__(
        self,
        ceilings: Mapping[str, int],
        viewer_bitrate: Callable[[RembTrack], int | None] | None,
    ) -> None:
        """``viewer_bitrate(track)``: the most any viewer can take of it, or None if one
        has no limit known or none watches; None itself: always the ceiling."""
        self._ceilings = ceilings
        self._viewer_bitrate = viewer_bitrate
        self._sent: dict[RembTrack, tuple[int, float]] = {}

    def target(self, track: RembTrack) -> int:
        """What ``track`` should send now, before the band and the hold."""
        ceiling = self._ceilings[track.source]
        if not track.video or self._viewer_bitrate is None:
            return ceiling
        wanted = self._viewer_bitrate(track)
        return ceiling if wanted is None else min(wanted, ceiling)

    def bitrate(self, tracks: Iterable[RembTrack], now: float) -> int:
        """The REMB value for all of ``tracks``."""
        total = 0
        sent: dict[RembTrack, tuple[int, float]] = {}
        for track in tracks:
            target = self.target(track)
            value, changed_at = self._sent.get(track, (target, now))
            outside = abs(target - value) > BAND * value
            hold = HOLD if target < value else HOLD_UP
            if outside and now - changed_at >= hold:
                value, changed_at = target, now
            sent[track] = (value, changed_at)
            total += value
        self._sent = sent
        return total
