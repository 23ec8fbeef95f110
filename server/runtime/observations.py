"""What a Room's media scope observes, as engine events (or nothing worth deciding).

The media plane reports what it sees (frames counted, a camera lost or back, a
track that ended); this turns each report into the event the engine decides,
given the person's state when the Room takes it from its inbox. Reports that
change nothing (frames from a camera already known to work, a camera lost that
was never working) become no event, so the audit log holds decisions, not
once-a-second noise.
"""

from __future__ import annotations

from meetwarden.policies import events as ev
from meetwarden.policies.state import MeetingState

from ..media.events import (
    CameraFrames,
    CameraLost,
    CameraRestored,
    ConnectionFailed,
    ParticipantObservation,
    TrackEnded,
)

__all__ = ["Observations", "media_failure_params"]

_CAUSES: dict[str, str] = {
    "no_video": "stopped",
    "stopped": "stopped",
    "frozen": "frozen",
    "black": "black",
}


def media_failure_params(failed: ConnectionFailed) -> dict[str, str | int | list[str]]:
    """What a participant is told when one of their media connections failed: which
    connection (``publish``, ``subscribe``) and what happened (``ice_failed``,
    ``dtls_failed``, ``timed_out``, ``lost``); the sentence is the ``media_failed`` one."""
    return {"direction": failed.direction, "failure": failed.reason}


# Camera states in which the engine is waiting to hear about frames.
_WATCHING = frozenset({"pending", "missing", "lost"})


class Observations:
    """One Room's reading of its media observations."""

    def __init__(self) -> None:
        self._unusable: set[str] = set()
        """Cameras the monitor found frozen, black or stopped: their frames do not count."""

    def forget(self, participant_id: str) -> None:
        self._unusable.discard(participant_id)

    @staticmethod
    def worth_deciding(observation: ParticipantObservation, state: MeetingState) -> bool:
        """False for the reports that cannot lead to an event whatever comes first: frames
        of a camera already working (the steady state, once a second per camera) and the
        ends of tracks that closed with their owner. Those never enter the inbox."""
        if isinstance(observation, CameraFrames):
            person = state.get(observation.participant_id)
            return person is not None and person.camera in _WATCHING
        if isinstance(observation, TrackEnded):
            return observation.reason != "participant_closed"
        return True  # camera lost or back: rare, and they keep the unusable set right

    def event_for(
        self, observation: ParticipantObservation, state: MeetingState
    ) -> ev.Event | None:
        pid = observation.participant_id
        person = state.get(pid)
        if person is None or not person.admitted or not person.connected:
            return None
        if isinstance(observation, CameraLost):
            self._unusable.add(pid)
        elif isinstance(observation, CameraRestored):
            self._unusable.discard(pid)
        match observation:
            case TrackEnded(source=source, reason=reason) if reason != "participant_closed":
                return ev.PublishStopped(participant=pid, source=source, by="media")
            case CameraFrames(fps=fps) if person.camera in _WATCHING and pid not in self._unusable:
                return ev.CameraFramesSeen(participant=pid, fps=round(fps, 2))
            case CameraLost(reason=reason) if person.camera == "ok":
                return ev.CameraLost(participant=pid, cause=_CAUSES[reason])  # type: ignore[arg-type]
            case CameraRestored() if person.camera == "lost":
                return ev.CameraRestored(participant=pid)
        return None
