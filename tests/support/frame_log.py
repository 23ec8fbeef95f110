"""What a viewer sees, as figures: decoded frames, freezes, decode errors, recovery.

A ``FrameLog`` is one subscriber's record: when each video frame came out of
its decoder (and the frame number ``SyntheticVideoTrack`` painted in it), and
when its decoder failed. ``DecodeErrors`` attributes aiortc's "failed to
decode" warnings to the subscriber whose decoder thread logged them (each
``RTCRtpReceiver`` decodes in a thread of its own, rtcrtpreceiver.py
``decoder_worker``).

The figures over a window [start, end] (``figures``):

- ``frames``: frames decoded in the window;
- a **freeze** is a gap of more than ``FREEZE_SECONDS`` between consecutive
  decoded frames (the window's start and end count as frames, so a freeze
  under way at either end is counted up to it); ``freeze_time`` sums the gaps
  that are freezes, ``max_freeze`` is the longest;
- ``decode_errors``: decoder failures in the window;
- ``recovery`` after a burst that ended at ``burst_end``: the time from the
  burst's end to the first frame decoded after it from which on, for
  ``STEADY_SECONDS`` (or to the window's end), the subscriber has neither a
  decode error nor a freeze. ``None``: it never recovered in the window.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FREEZE_SECONDS",
    "STEADY_SECONDS",
    "DecodeErrors",
    "FrameLog",
    "ViewerFigures",
    "figures",
]

FREEZE_SECONDS = 0.5
STEADY_SECONDS = 1.0


@dataclass
class FrameLog:
    """One subscriber's decoded frames and decoder failures (monotonic times)."""

    name: str
    times: list[float] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)

    def decoded(self, number: int) -> None:
        self.times.append(time.monotonic())
        self.numbers.append(number)


@dataclass(frozen=True, slots=True)
class ViewerFigures:
    """One subscriber's figures over one window."""

    name: str
    frames: int
    freezes: int
    freeze_time: float
    max_freeze: float
    decode_errors: int
    recovery: float | None


def _gaps(times: list[float], start: float, end: float) -> list[float]:
    inside = [t for t in times if start <= t <= end]
    points = [start, *inside, end]
    return [b - a for a, b in itertools.pairwise(points)]


def figures(
    log: FrameLog, start: float, end: float, burst_end: float | None = None
) -> ViewerFigures:
    """The figures of ``log`` over [start, end] (see the module's docstring)."""
    freezes = [gap for gap in _gaps(log.times, start, end) if gap > FREEZE_SECONDS]
    recovery = None
    if burst_end is not None:
        recovery = _recovery(log, burst_end, end)
    return ViewerFigures(
        log.name,
        sum(1 for t in log.times if start <= t <= end),
        len(freezes),
        sum(freezes),
        max(freezes, default=0.0),
        sum(1 for t in log.errors if start <= t <= end),
        recovery,
    )


def _recovery(log: FrameLog, burst_end: float, end: float) -> float | None:
    for first in (t for t in log.times if burst_end <= t <= end):
        steady_until = min(first + STEADY_SECONDS, end)
        if any(first <= t <= steady_until for t in log.errors):
            continue
        if all(gap <= FREEZE_SECONDS for gap in _gaps(log.times, first, steady_until)):
            return first - burst_end
    return None


class DecodeErrors(logging.Handler):
    """Sends aiortc's "failed to decode" warnings to the log of the receiver that failed.

    ``decoder_of`` gives, for each log, the decoder thread's ident of its video
    receiver (None until it decodes); a warning whose thread matches none is
    counted in ``unattributed``.
    """

    def __init__(self, logs: Callable[[], Iterable[tuple[FrameLog, int | None]]]) -> None:
        super().__init__(logging.WARNING)
        self._logs = logs
        self.unattributed = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" not in record.getMessage():
            return
        for log, thread in self._logs():
            if thread is not None and thread == record.thread:
                log.errors.append(time.monotonic())
                return
        self.unattributed += 1

    def __enter__(self) -> DecodeErrors:
        logging.getLogger("aiortc.rtcrtpreceiver").addHandler(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger("aiortc.rtcrtpreceiver").removeHandler(self)
