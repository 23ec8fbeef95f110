"""meetwarden's media plane: RTP-level selective forwarding gated per track.

The meeting runtime drives one ``MediaPlane``: it answers publishing offers,
makes subscribing offers, opens and closes gates, and reads observations.
Nothing here consults the policy.
"""

from .camera_monitor import CameraCheck
from .errors import MediaError
from .events import (
    CameraFrames,
    CameraLost,
    CameraRestored,
    Observation,
    Source,
    TrackEnded,
    TrackPublished,
)
from .plane import MediaPlane, TrackStats
from .subscriber import SubscribedTrack, SubscriberOffer

__all__ = [
    "CameraCheck",
    "CameraFrames",
    "CameraLost",
    "CameraRestored",
    "MediaError",
    "MediaPlane",
    "Observation",
    "Source",
    "SubscribedTrack",
    "SubscriberOffer",
    "TrackEnded",
    "TrackPublished",
    "TrackStats",
]
