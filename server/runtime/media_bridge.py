"""Between the media plane and the meetings: gates in, observations out.

The runtime opens and closes gates through this bridge (it is the runtime's
MediaSeam); what the media plane observes (a camera's frame rate, a camera
lost or back, a track that ended) comes back as engine events for the
participant's meeting, decided like everything else. Subscriber offers the
plane makes on its own (tracks came or went) go to the participant's socket.
Each meeting has its own media room: nothing crosses between meetings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from meetwarden import protocol as wire
from meetwarden.policies import events as ev

from ..media import MediaPlane, MediaRoom
from ..media.events import (
    CameraFrames,
    CameraLost,
    CameraRestored,
    Observation,
    TrackEnded,
)
from ..media.subscriber import SubscriberOffer
from .meeting import MeetingRuntime

__all__ = ["MediaBridge", "offer_message"]

log = logging.getLogger("meetwarden.media")
_CAUSES: dict[str, str] = {
    "no_video": "stopped",
    "stopped": "stopped",
    "frozen": "frozen",
    "black": "black",
}
# Camera states in which the engine is waiting to hear about frames.
_WATCHING = frozenset({"pending", "missing", "lost"})


def offer_message(offer: SubscriberOffer, ref: int | None = None) -> wire.SubscribeOffer:
    return wire.SubscribeOffer(
        ref=ref,
        sdp=offer.sdp,
        tracks=[
            wire.OfferedTrack(
                mid=track.mid,
                participant=track.participant_id,
                source=str(track.source),  # type: ignore[arg-type]
                kind=track.kind,  # type: ignore[arg-type]
            )
            for track in offer.tracks
        ],
    )


class MediaBridge:
    def __init__(self, host_addresses: Sequence[str] | None) -> None:
        self.plane = MediaPlane(host_addresses=host_addresses)
        self._rooms: dict[str, MediaRoom] = {}  # by meeting id
        self._meetings: dict[str, MeetingRuntime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unusable: set[str] = set()
        """Cameras the monitor found frozen, black or stopped: their frames do not count."""

    def room_for(self, runtime: MeetingRuntime) -> MediaRoom:
        room = self._rooms.get(runtime.meeting_id)
        if room is None or room.closed:
            room = self._rooms[runtime.meeting_id] = self.plane.room(
                runtime.meeting_id,
                on_observation=lambda observation: self._observed(runtime, observation),
                on_subscriber_offer=lambda pid, offer: self._offered(runtime, pid, offer),
            )
        return room

    def register(self, participant_id: str, runtime: MeetingRuntime) -> None:
        """An admitted participant's media signalling: it may publish and subscribe."""
        self._meetings[participant_id] = runtime
        self.room_for(runtime).admit(participant_id)

    async def meeting_ended(self, meeting_id: str) -> None:
        room = self._rooms.pop(meeting_id, None)
        if room is not None:
            await room.close()

    # --- the runtime's MediaSeam ------------------------------------------------

    def _room_of(self, participant_id: str) -> MediaRoom | None:
        runtime = self._meetings.get(participant_id)
        return self._rooms.get(runtime.meeting_id) if runtime is not None else None

    def set_gate(self, participant_id: str, source: str, open: bool) -> None:
        room = self._room_of(participant_id)
        if room is not None:  # no room yet: no media yet, and every gate starts closed
            room.set_gate(participant_id, source, open)

    async def close_participant(self, participant_id: str) -> None:
        room = self._room_of(participant_id)
        self._meetings.pop(participant_id, None)
        self._unusable.discard(participant_id)
        if room is not None:
            room.close_participant(participant_id)

    # --- from the media plane -------------------------------------------------------

    def _event_for(self, observation: Observation, runtime: MeetingRuntime) -> ev.Event | None:
        person = runtime.state.get(observation.participant_id)
        if person is None or not person.admitted:
            return None
        pid = observation.participant_id
        if isinstance(observation, CameraLost):
            self._unusable.add(pid)
        elif isinstance(observation, CameraRestored):
            self._unusable.discard(pid)
        match observation:
            case TrackEnded(source=source, reason=reason) if reason != "participant_closed":
                return ev.PublishStopped(participant=pid, source=str(source))  # type: ignore[arg-type]
            case CameraFrames(fps=fps) if person.camera in _WATCHING and pid not in self._unusable:
                return ev.CameraFramesSeen(participant=pid, fps=round(fps, 2))
            case CameraLost(reason=reason) if person.camera == "ok":
                return ev.CameraLost(participant=pid, cause=_CAUSES[reason])  # type: ignore[arg-type]
            case CameraRestored() if person.camera == "lost":
                return ev.CameraRestored(participant=pid)
        return None

    def _observed(self, runtime: MeetingRuntime, observation: Observation) -> None:
        # Frames of a frozen or black picture are frames, but not working video.
        event = self._event_for(observation, runtime)
        if event is not None:
            task = asyncio.ensure_future(self._submit(runtime, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _submit(self, runtime: MeetingRuntime, event: ev.Event) -> None:
        try:
            await runtime.submit(event, actor="media")
        except Exception:
            log.exception("media observation %s failed", event.type)

    def _offered(
        self, runtime: MeetingRuntime, participant_id: str, offer: SubscriberOffer
    ) -> None:
        session = runtime.sessions.get(participant_id)
        if session is not None:
            session.send(offer_message(offer))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.plane.close()
