"""The camera requirement, judged on what the media plane sees.

Working video must arrive at ``min_fps`` within ``check_seconds`` of
admission and keep arriving; a camera that stops, freezes or goes black has
``lost_grace_seconds`` to come back. The server never trusts a client's word
that its camera is on (security-bar test 45).
"""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import (
    CancelTimer,
    Dismiss,
    Effect,
    Notify,
    SendToWaitingRoom,
    SetCamera,
    StartTimer,
)
from ..events import (
    CameraCheckDue,
    CameraFramesSeen,
    CameraGraceExpired,
    CameraLost,
    CameraRestored,
)
from ..model import Policy
from ..reasons import Reason
from ..sections.entry import CameraAction
from ..state import MeetingState, Participant
from .common import camera_required_for, in_meeting, teardown_effects

__all__ = [
    "camera_check_due",
    "camera_frames",
    "camera_grace_expired",
    "camera_lost",
    "camera_restored",
]

_CAUSES = {"stopped": "stopped sending video", "frozen": "froze", "black": "is sending black"}


def _act(
    person: Participant, action: CameraAction, topic: str, text: str, host_text: str
) -> list[Effect]:
    """What on_missing / on_lost say to do. ``text`` is addressed to the person,
    ``host_text`` to the hosts (it names the person)."""
    if action == "warn":
        return [
            Notify("participant", topic, person.id, text),
            Notify("hosts", topic, person.id, host_text),
        ]
    effects = teardown_effects(person)
    if action == "waiting_room":
        effects += [
            SendToWaitingRoom(person.id),
            Notify("participant", topic, person.id, text + " You are back in the waiting room."),
            Notify(
                "hosts",
                "waiting_room_changed",
                person.id,
                host_text + f" {person.name} is back in the waiting room.",
            ),
            Notify("everyone", "roster_changed", person.id),
        ]
    else:
        effects += [
            Notify("participant", topic, person.id, text + " You were removed from the meeting."),
            Dismiss(person.id, "camera"),
            Notify("everyone", "roster_changed", person.id),
        ]
    return effects


def _host_lost(person: Participant, cause: str) -> str:
    return f"{person.name}'s camera {_CAUSES[cause]}."


def _required(policy: Policy, state: MeetingState, participant_id: str) -> Participant | Decision:
    person = in_meeting(state, participant_id)
    if isinstance(person, Decision):
        return person
    if not camera_required_for(policy, person):
        return allow(
            Reason.CAMERA_NOT_REQUIRED,
            "/entry/camera/required",
            "No camera is required of you.",
        )
    return person


def _restore(person: Participant) -> Decision:
    if person.camera == "lost":
        return allow(
            Reason.CAMERA_RESTORED,
            "/entry/camera/on_lost",
            "Your camera is back.",
            SetCamera(person.id, "ok"),
            CancelTimer("camera_grace", person.id),
            Notify("hosts", "camera_restored", person.id),
        )
    if person.camera in ("pending", "missing"):
        return allow(
            Reason.CAMERA_OK,
            "/entry/camera/min_fps",
            "Your camera works.",
            SetCamera(person.id, "ok"),
            CancelTimer("camera_check", person.id),
        )
    return allow(Reason.CAMERA_OK, "/entry/camera/min_fps", "Your camera works.")


def camera_frames(policy: Policy, state: MeetingState, event: CameraFramesSeen) -> Decision:
    person = _required(policy, state, event.participant)
    if isinstance(person, Decision):
        return person
    need = policy.entry.camera.min_fps
    if event.fps < need:
        return refuse(
            Reason.CAMERA_TOO_SLOW,
            "/entry/camera/min_fps",
            f"Your video arrives at {event.fps:.0f} frames a second; at least {need} are needed.",
        )
    return _restore(person)


def camera_restored(policy: Policy, state: MeetingState, event: CameraRestored) -> Decision:
    person = _required(policy, state, event.participant)
    if isinstance(person, Decision):
        return person
    return _restore(person)


def camera_lost(policy: Policy, state: MeetingState, event: CameraLost) -> Decision:
    person = _required(policy, state, event.participant)
    if isinstance(person, Decision):
        return person
    if person.camera != "ok":
        return refuse(
            Reason.CAMERA_PENDING,
            "/entry/camera/check_seconds",
            "No working video yet; the camera check is still running.",
        )
    camera = policy.entry.camera
    text = f"Your camera {_CAUSES[event.cause]}."
    if camera.lost_grace_seconds == 0:
        return refuse(
            Reason.CAMERA_STILL_LOST,
            "/entry/camera/on_lost",
            text,
            SetCamera(person.id, "lost"),
            *_act(person, camera.on_lost, "camera_lost", text, _host_lost(person, event.cause)),
        )
    grace = camera.lost_grace_seconds
    return refuse(
        Reason.CAMERA_LOST,
        "/entry/camera/lost_grace_seconds",
        f"{text} Turn it back on within {grace} seconds.",
        SetCamera(person.id, "lost"),
        StartTimer("camera_grace", person.id, event.at + grace),
        Notify(
            "participant",
            "camera_lost",
            person.id,
            f"{text} The host requires video: turn it back on within {grace} seconds.",
        ),
        Notify("hosts", "camera_lost", person.id, _host_lost(person, event.cause)),
    )


def camera_check_due(policy: Policy, state: MeetingState, event: CameraCheckDue) -> Decision:
    person = state.get(event.participant)
    if person is None or not person.admitted or person.camera != "pending":
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE, "Nothing to check.")
    camera = policy.entry.camera
    text = "The host requires working video and none arrived."
    return refuse(
        Reason.CAMERA_MISSING,
        "/entry/camera/on_missing",
        text + " Turn on your camera.",
        SetCamera(person.id, "missing"),
        *_act(
            person,
            camera.on_missing,
            "camera_missing",
            text,
            f"No working video arrived from {person.name}'s camera.",
        ),
    )


def camera_grace_expired(
    policy: Policy, state: MeetingState, event: CameraGraceExpired
) -> Decision:
    person = state.get(event.participant)
    if person is None or not person.admitted or person.camera != "lost":
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE, "The camera came back in time.")
    text = "Your camera did not come back in time."
    return refuse(
        Reason.CAMERA_STILL_LOST,
        "/entry/camera/on_lost",
        text,
        *_act(
            person,
            policy.entry.camera.on_lost,
            "camera_lost",
            text,
            f"{person.name}'s camera did not come back in time.",
        ),
    )
