"""meetwarden's media plane: RTP-level selective forwarding gated per track.

The server holds one ``MediaPlane`` (the transport and settings the process
shares) and drives one ``MediaRoom`` per meeting: it admits participants,
answers publishing offers, makes subscribing offers, opens and closes gates,
and reads observations, all inside that meeting's room. Nothing here consults
the policy, and nothing in a room can reach another.
"""

from .camera_monitor import CameraCheck
from .errors import MediaError
from .events import (
    CameraFrames,
    CameraLost,
    CameraRestored,
    ConnectionFailed,
    Observation,
    Source,
    SpeakersChanged,
    TrackEnded,
    TrackPublished,
)
from .forwarder import FORWARDED, ForwardedTotals
from .plane import MediaPlane
from .room import MediaRoom
from .subscriber import SubscribedTrack, SubscriberOffer
from .track_stats import TrackStats

__all__ = [
    "FORWARDED",
    "CameraCheck",
    "CameraFrames",
    "CameraLost",
    "CameraRestored",
    "ConnectionFailed",
    "ForwardedTotals",
    "MediaError",
    "MediaPlane",
    "MediaRoom",
    "Observation",
    "Source",
    "SpeakersChanged",
    "SubscribedTrack",
    "SubscriberOffer",
    "TrackEnded",
    "TrackPublished",
    "TrackStats",
]
