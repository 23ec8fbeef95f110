"""Checks and effect bundles that several rule groups share."""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, refuse
from ..effects import (
    CancelTimer,
    CloseGate,
    Effect,
    EndGrant,
    Notify,
    SetCamera,
    SetHand,
    SetMuted,
    StartTimer,
    TimerKind,
)
from ..events import ShareKind
from ..model import Policy
from ..reasons import Reason
from ..state import OWNER, MeetingState, Participant

__all__ = [
    "GRANT_TIMERS",
    "admission_effects",
    "camera_required_for",
    "host_acting",
    "host_target",
    "in_meeting",
    "share_section",
    "teardown_effects",
]

GRANT_TIMERS: dict[ShareKind, TimerKind] = {"screen": "screen_grant", "file": "file_grant"}


def in_meeting(state: MeetingState, participant_id: str) -> Participant | Decision:
    """The admitted participant, or the refusal that says why it cannot act."""
    person = state.get(participant_id)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="you")
    if not person.admitted:
        return refuse(Reason.NOT_ADMITTED, "/entry/waiting_room/enabled", who="you")
    if not person.connected:
        return refuse(Reason.DISCONNECTED, "/entry/reconnect_seconds", who="you")
    return person


def host_acting(
    state: MeetingState, actor_id: str, *, host_only: bool = False
) -> Participant | Decision:
    """The admitted host or co-host who acts, or the refusal."""
    if actor_id == OWNER:
        return Participant(OWNER, "Host", "host", "admitted")
    actor = in_meeting(state, actor_id)
    if isinstance(actor, Decision):
        return actor
    if host_only and actor.role != "host":
        return refuse(Reason.NOT_THE_HOST, BUILTIN_RULE)
    if not actor.is_host:
        return refuse(Reason.NOT_A_HOST, BUILTIN_RULE)
    return actor


def host_target(
    state: MeetingState,
    actor_id: str,
    target_id: str,
    *,
    waiting_ok: bool = False,
    host_only: bool = False,
) -> Participant | Decision:
    """The participant a host acts on, or the refusal: the actor must be an admitted host
    (or the host itself, with ``host_only``); nobody acts on the host, and only the host
    acts on a co-host."""
    actor = host_acting(state, actor_id, host_only=host_only)
    if isinstance(actor, Decision):
        return actor
    target = state.get(target_id)
    if target is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="participant")
    if not waiting_ok and not target.admitted:
        return refuse(Reason.NOT_ADMITTED, BUILTIN_RULE, who="participant", name=target.name)
    if target.role == "host" or (target.role == "cohost" and actor.role != "host"):
        return refuse(Reason.CANNOT_TARGET_HOST, BUILTIN_RULE)
    return target


def share_section(policy: Policy, kind: ShareKind) -> tuple[str, str]:
    """(allowed mode, JSON pointer of the section) for a kind of sharing."""
    if kind == "screen":
        return policy.screen_share.allowed, "/screen_share"
    return policy.file_share.allowed, "/file_share"


def camera_required_for(policy: Policy, person: Participant) -> bool:
    """The camera rule applies to participants; the people running the meeting are exempt."""
    return policy.entry.camera.required and not person.is_host


def admission_effects(policy: Policy, person: Participant, at: float) -> list[Effect]:
    """What follows admission: mute on entry, and the camera check's clock starting."""
    effects: list[Effect] = []
    muted = policy.audio.mute_on_entry and not person.is_host
    effects.append(SetMuted(person.id, muted))
    if camera_required_for(policy, person):
        camera = policy.entry.camera
        effects.append(SetCamera(person.id, "pending"))
        effects.append(StartTimer("camera_check", person.id, at + camera.check_seconds))
    effects.append(Notify("participant", "admitted", person.id))
    effects.append(Notify("everyone", "roster_changed", person.id))
    return effects


def teardown_effects(person: Participant) -> list[Effect]:
    """Stop everything a participant has running: gates, grants, timers, hand."""
    effects: list[Effect] = [CloseGate(person.id, source) for source in sorted(person.open_gates)]
    for grant in person.grants:
        effects.append(EndGrant(person.id, grant.kind))
        effects.append(CancelTimer(GRANT_TIMERS[grant.kind], person.id))
    if person.camera in ("pending", "missing"):
        effects.append(CancelTimer("camera_check", person.id))
    if person.camera == "lost":
        effects.append(CancelTimer("camera_grace", person.id))
    if person.hand_raised:
        effects.append(SetHand(person.id, False))
    return effects
