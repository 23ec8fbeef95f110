"""Sources of published tracks and what the media plane reports.

The media plane asks nothing of the policy: it reports these observations and
the meeting runtime turns them into engine events (TrackPublished, CameraLost,
...). Every observation is frozen and names the participant it is about, but
``SpeakersChanged``, which is about the room (relayed, never decided), and
``VideoPaused``, told to the subscriber it is about and never decided either.
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
    "ConnectionFailed",
    "ConnectionFailedReason",
    "Direction",
    "Observation",
    "ParticipantObservation",
    "Source",
    "SpeakersChanged",
    "TrackEnded",
    "TrackEndedReason",
    "TrackPublished",
    "VideoPaused",
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


Direction = Literal["publish", "subscribe"]
ConnectionFailedReason = Literal["ice_failed", "dtls_failed", "timed_out", "lost"]


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """A publishing or subscribing connection failed, or never connected; it was released.

    ``ice_failed``: no candidate pair worked; ``dtls_failed``: the DTLS handshake
    failed (a fingerprint that does not match the certificate, say);
    ``timed_out``: not connected within the connect timeout (the client went
    away mid-handshake); ``lost``: it was connected, then failed or was closed
    by the other side.
    """

    participant_id: str
    direction: Direction
    reason: ConnectionFailedReason


@dataclass(frozen=True, slots=True)
class SpeakersChanged:
    """Who is speaking in the room changed (``speaking``); the only room-wide observation.

    Decided from the audio levels of microphones whose gate is open (``speaking``),
    reported only on a change, at most once per window.
    """

    speakers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VideoPaused:
    """A subscriber's link cannot take a video stream forwarded to it: the stream is
    paused for that subscriber alone (``paused``), or resumed once it can
    (``subscriber_bandwidth``). Told to the subscriber, never decided."""

    participant_id: str
    """The subscriber."""
    about: str
    """Whose video."""
    source: Source
    paused: bool


ParticipantObservation = (
    TrackPublished | TrackEnded | CameraFrames | CameraLost | CameraRestored | ConnectionFailed
)
"""The observations about one participant: each names it (``participant_id``)."""

Observation = ParticipantObservation | SpeakersChanged | VideoPaused
