"""A policy replaced mid-meeting applies at once to everyone inside or waiting.

A password, a name rule or personal invites (``entry.identity: invited``)
added later hold for those not yet admitted (jitsi-meet#5720 let early
arrivals in without the password set after them);
sharing tightened later stops shares the new policy would not allow.
"""

from __future__ import annotations

from ..decision import Decision, allow
from ..effects import (
    Admit,
    CancelTimer,
    CloseGate,
    Dismiss,
    Effect,
    EndGrant,
    Notify,
    SetCamera,
    SetLocked,
    SetPolicy,
    StartTimer,
)
from ..events import PolicyUpdateRequested
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState, Participant
from .common import GRANT_TIMERS, admission_effects, camera_required_for, host_acting, share_section
from .entry import name_refusal
from .identity import holds_own_invite
from .sharing import may_share, stop_share_effects

__all__ = ["policy_update"]


def _waiting_effects(new: Policy, state: MeetingState, locked: bool, at: float) -> list[Effect]:
    effects: list[Effect] = []
    still_waiting: list[Participant] = []
    for person in state.waiting():
        if new.entry.password and not person.password_ok and not person.invited:
            effects += [
                Dismiss(person.id, "policy"),
                Notify("participant", "password_required", person.id),
            ]
            continue
        if new.entry.identity == "invited" and not holds_own_invite(state, person):
            effects += [
                Dismiss(person.id, "policy"),
                Notify("participant", "invite_required", person.id),
            ]
            continue
        _, refusal = name_refusal(new, state, person.id, person.name, person.role)
        if refusal is not None:
            effects += [
                Dismiss(person.id, "policy"),
                Notify("participant", refusal.reason.value, person.id, params=refusal.params),
            ]
            continue
        still_waiting.append(person)
    if not new.entry.waiting_room.enabled and not locked:
        room = new.entry.max_participants - state.admitted_count()
        for person in still_waiting[: max(room, 0)]:
            effects += [Admit(person.id), *admission_effects(new, person, at)]
    if effects:
        effects.append(Notify("hosts", "waiting_room_changed", None))
    return effects


def _admitted_effects(new: Policy, state: MeetingState, at: float) -> list[Effect]:
    effects: list[Effect] = []
    sharing: list[Participant] = []
    for person in state.admitted():
        for kind in ("screen", "file"):
            mode, _ = share_section(new, kind)
            if person.grant(kind) is not None and mode != "with_grant":
                effects += [EndGrant(person.id, kind), CancelTimer(GRANT_TIMERS[kind], person.id)]
        if "screen" in person.published:  # shared, or published and awaiting confirmation
            if may_share(new, person, "screen", at) is not None:
                effects += stop_share_effects(new, person, end_grant=False)
            elif "screen" in person.open_gates:
                sharing.append(person)
                if "screen_audio" in person.open_gates and not new.screen_share.audio:
                    effects.append(CloseGate(person.id, "screen_audio"))
        required = camera_required_for(new, person)
        if required and person.camera == "not_required":
            effects += [
                SetCamera(person.id, "pending"),
                StartTimer("camera_check", person.id, at + new.entry.camera.check_seconds),
                Notify("participant", "camera_required", person.id),
            ]
        elif not required and person.camera != "not_required":
            effects += [
                SetCamera(person.id, "not_required"),
                CancelTimer("camera_check", person.id),
                CancelTimer("camera_grace", person.id),
            ]
    for person in sharing[new.screen_share.max_concurrent :]:
        effects += stop_share_effects(new, person, end_grant=False)
    return effects


def policy_update(policy: Policy, state: MeetingState, event: PolicyUpdateRequested) -> Decision:
    actor = host_acting(state, event.actor, host_only=True)
    if isinstance(actor, Decision):
        return actor
    new = event.policy
    effects: list[Effect] = [SetPolicy(new)]
    locked = state.locked
    if new.entry.locked != policy.entry.locked:
        locked = new.entry.locked
        effects.append(SetLocked(locked))
    effects += _waiting_effects(new, state, locked, event.at)
    effects += _admitted_effects(new, state, event.at)
    effects.append(Notify("everyone", "policy_changed", None))
    return allow(Reason.POLICY_UPDATED, "", *effects)
