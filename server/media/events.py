"""Sources of published tracks and what the media plane reports.

The media plane asks nothing of the policy: it reports these observations and
the meeting runtime turns them into engine events (TrackPublished, CameraLost,
...). Every observation is frozen and names the participant it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

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
]


class Source(StrEnum):
    """What a published track is, fixed by the server at negotiation (never a label)."""

    MICROPHONE = "microphone"
    CAMERA = "camera"
    SCREEN = "screen"
    SCREEN_AUDIO = "screen_audio"


_KINDS = {
    Source.MICROPHONE: "audio",
    Source.CAMERA: "video",
    Source.SCREEN: "video",
    Source.SCREEN_AUDIO: "audio",
}


def kind_of(source: Source) -> str:
    """The WebRTC media kind ("audio" or "video") a source must be negotiated as."""
    return _KINDS[source]


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
