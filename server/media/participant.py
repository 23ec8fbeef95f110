"""One admission of one participant to one media room: its connections and camera monitors.

A ``RoomParticipant`` exists from ``MediaRoom.admit`` until the participant
leaves; ``closed`` is then set for good and a re-admission makes a new object.
So a ``publish`` or ``subscribe`` that was suspended in an await when the
participant left sees ``closed`` on the object it started with, however soon
the participant came back (room_publishing.py and room_subscribing.py
re-check it after every await).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCPeerConnection

from .camera_monitor import CameraCheck, CameraMonitor
from .events import Observation
from .forwarder import PublishedTrack
from .publisher import PublisherConnection
from .subscriber import SubscriberConnection

__all__ = ["RoomParticipant"]


class RoomParticipant:
    """A participant's publishing and subscribing connections inside one room."""

    def __init__(self, participant_id: str) -> None:
        self.id = participant_id
        self.publisher: PublisherConnection | None = None
        self.subscriber: SubscriberConnection | None = None
        self.lock = asyncio.Lock()  # one publishing negotiation at a time
        self.closed = False
        self._monitors: dict[PublishedTrack, CameraMonitor] = {}
        # The size this participant shows each (publisher, source) at (``tile_size``): it
        # outlives the tracks, so a camera turned off and on keeps the layer it needs.
        self.tiles: dict[tuple[str, str], tuple[int, int]] = {}

    def published(self) -> list[PublishedTrack]:
        """The tracks this participant publishes now."""
        return [] if self.publisher is None else list(self.publisher.tracks.values())

    def leave(self) -> tuple[list[PublishedTrack], list[RTCPeerConnection]]:
        """Stop every stream to and from this participant at once, with no await.

        Returns the tracks that ended and the connections still to release.
        """
        self.closed = True
        connections: list[RTCPeerConnection] = []
        subscriber, self.subscriber = self.subscriber, None
        if subscriber is not None:
            subscriber.stop_forwarding()
            connections.append(subscriber.pc)
        publisher, self.publisher = self.publisher, None
        ended: list[PublishedTrack] = []
        if publisher is not None:
            ended = publisher.end_all()
            connections.append(publisher.pc)
        for monitor in self._monitors.values():
            monitor.close()
        self._monitors.clear()
        return ended, connections

    # ------------------------------------------------------------------ camera

    def watch_camera(
        self, track: PublishedTrack, check: CameraCheck, emit: Callable[[Observation], None]
    ) -> None:
        self._monitors[track] = CameraMonitor(track, check, emit)

    def unwatch(self, track: PublishedTrack) -> None:
        monitor = self._monitors.pop(track, None)
        if monitor is not None:
            monitor.close()

    def tick_cameras(self) -> None:
        for monitor in list(self._monitors.values()):
            monitor.tick()

    def camera_monitor(self) -> CameraMonitor | None:
        publisher = self.publisher
        track = publisher.track_of("camera") if publisher is not None else None
        return self._monitors.get(track) if track is not None else None
