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


def _act(person: Participant, action: CameraAction, topic: str, cause: str) -> list[Effect]:
    """What on_missing / on_lost say to do. The notices carry the ``cause`` (``stopped``,
    ``frozen``, ``black``, ``missing``, ``not_back``) and what followed (``then``); the
    hosts' notice names the person."""
    about = {"cause": cause, "name": person.name}
    if action == "warn":
        return [
            Notify("participant", topic, person.id, params={"cause": cause, "then": "warn"}),
            Notify("hosts", topic, person.id, params={**about, "then": "warn"}),
        ]
    effects = teardown_effects(person)
    if action == "waiting_room":
        effects += [
            SendToWaitingRoom(person.id),
            Notify("participant", topic, person.id, params={"cause": cause, "then": action}),
            Notify("hosts", "waiting_room_changed", person.id, params={**about, "then": action}),
            Notify("everyone", "roster_changed", person.id),
        ]
    else:
        effects += [
            Notify("participant", topic, person.id, params={"cause": cause, "then": action}),
            Dismiss(person.id, "camera"),
            Notify("everyone", "roster_changed", person.id),
        ]
    return effects


def _required(policy: Policy, state: MeetingState, participant_id: str) -> Participant | Decision:
    person = in_meeting(state, participant_id)
    if isinstance(person, Decision):
        return person
    if not camera_required_for(policy, person):
        return allow(Reason.CAMERA_NOT_REQUIRED, "/entry/camera/required")
    return person


def _restore(person: Participant) -> Decision:
    if person.camera == "lost":
        return allow(
            Reason.CAMERA_RESTORED,
            "/entry/camera/on_lost",
            SetCamera(person.id, "ok"),
            CancelTimer("camera_grace", person.id),
            Notify("hosts", "camera_restored", person.id, params={"name": person.name}),
        )
    if person.camera in ("pending", "missing"):
        return allow(
            Reason.CAMERA_OK,
            "/entry/camera/min_fps",
            SetCamera(person.id, "ok"),
            CancelTimer("camera_check", person.id),
        )
    return allow(Reason.CAMERA_OK, "/entry/camera/min_fps")


def camera_frames(policy: Policy, state: MeetingState, event: CameraFramesSeen) -> Decision:
    person = _required(policy, state, event.participant)
    if isinstance(person, Decision):
        return person
    need = policy.entry.camera.min_fps
    if event.fps < need:
        return refuse(
            Reason.CAMERA_TOO_SLOW, "/entry/camera/min_fps", fps=round(event.fps), min_fps=need
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
        return refuse(Reason.CAMERA_PENDING, "/entry/camera/check_seconds")
    camera = policy.entry.camera
    if camera.lost_grace_seconds == 0:
        return refuse(
            Reason.CAMERA_STILL_LOST,
            "/entry/camera/on_lost",
            SetCamera(person.id, "lost"),
            *_act(person, camera.on_lost, "camera_lost", event.cause),
            cause=event.cause,
        )
    grace = camera.lost_grace_seconds
    return refuse(
        Reason.CAMERA_LOST,
        "/entry/camera/lost_grace_seconds",
        SetCamera(person.id, "lost"),
        StartTimer("camera_grace", person.id, event.at + grace),
        Notify(
            "participant",
            "camera_lost",
            person.id,
            params={"cause": event.cause, "then": "grace", "seconds": grace},
        ),
        Notify(
            "hosts", "camera_lost", person.id, params={"cause": event.cause, "name": person.name}
        ),
        cause=event.cause,
        seconds=grace,
    )


def camera_check_due(policy: Policy, state: MeetingState, event: CameraCheckDue) -> Decision:
    person = state.get(event.participant)
    if person is None or not person.admitted or person.camera != "pending":
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE)
    camera = policy.entry.camera
    return refuse(
        Reason.CAMERA_MISSING,
        "/entry/camera/on_missing",
        SetCamera(person.id, "missing"),
        *_act(person, camera.on_missing, "camera_missing", "missing"),
    )


def camera_grace_expired(
    policy: Policy, state: MeetingState, event: CameraGraceExpired
) -> Decision:
    person = state.get(event.participant)
    if person is None or not person.admitted or person.camera != "lost":
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE)
    return refuse(
        Reason.CAMERA_STILL_LOST,
        "/entry/camera/on_lost",
        *_act(person, policy.entry.camera.on_lost, "camera_lost", "not_back"),
        cause="not_back",
    )
