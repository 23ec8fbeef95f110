"""Sources of published tracks and what the media plane reports.

The media plane asks nothing of the policy: it reports these observations and
the meeting runtime turns them into engine events (TrackPublished, CameraLost,
...). Every observation is frozen and names the participant it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from meetwarden.protocol.vocabulary import SOURCES, Source, kind_of

__all__ = [
    "CameraFrames",
    "CameraLost",
    "CameraLostReason",
    "CameraRestored",
    "Observation",
    "Source",
    "TrackEnded",
    "TrackEndedReason",
    "TrackPublished",
    "kind_of",
    "source_of",
]


def source_of(value: str) -> Source:
    """A source name checked against the protocol's vocabulary (ValueError otherwise)."""
    if value not in SOURCES:
        raise ValueError(f"{value!r} is not a source ({', '.join(SOURCES)})")
    return cast(Source, value)


TrackEndedReason = Literal["unpublished", "participant_closed", "connection_lost"]
CameraLostReason = Literal["no_video", "stopped", "frozen", "black"]


@dataclass(frozen=True, slots=True)
class TrackPublished:
    """The first media packet of a negotiated track reached the server."""

    participant_id: str
    source: Source


@dataclass(frozen=True, slots=True)
class TrackEnded:
    """A published track is gone: re-offered away, participant closed, or connection lost."""

    participant_id: str
    source: Source
    reason: TrackEndedReason


@dataclass(frozen=True, slots=True)
class CameraFrames:
    """Frames of a camera track counted from RTP marker bits over the last window."""

    participant_id: str
    fps: float
    window_seconds: float


@dataclass(frozen=True, slots=True)
class CameraLost:
    """The camera stopped delivering usable video (never started, stopped, frozen, black)."""

    participant_id: str
    reason: CameraLostReason


@dataclass(frozen=True, slots=True)
class CameraRestored:
    """A camera reported lost delivers moving, non-black video again."""

    participant_id: str


Observation = TrackPublished | TrackEnded | CameraFrames | CameraLost | CameraRestored
