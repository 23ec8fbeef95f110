"""Audio: mute on entry, who lifts a mute, raised hands.

A host can never unmute someone by force, only let them speak (Zoom
KB0066716); the participant then unmutes. A mute by policy closes the
microphone gate, so a client that ignores it is simply not forwarded.
"""

from __future__ import annotations

from ..decision import Decision, allow, refuse
from ..effects import AllowUnmute, CloseGate, Effect, Notify, OpenGate, SetHand, SetMuted
from ..events import (
    AskToUnmuteRequested,
    HandLowered,
    HandRaised,
    MuteAllRequested,
    MuteRequested,
    SelfMuted,
    UnmuteRequested,
)
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState, Participant
from .common import host_acting, host_target, in_meeting

__all__ = [
    "ask_to_unmute",
    "hand_lowered",
    "hand_raised",
    "may_unmute_now",
    "mute",
    "mute_all",
    "self_muted",
    "unmute",
]


def _mute_effects(person: Participant) -> list[Effect]:
    effects: list[Effect] = [SetMuted(person.id, True)]
    if "microphone" in person.open_gates:
        effects.append(CloseGate(person.id, "microphone"))
    return effects


def may_unmute_now(policy: Policy, person: Participant) -> bool:
    """Whether this person's unmute request would be allowed now (what clients show)."""
    return not person.muted or person.is_host or policy.audio.unmute == "self" or person.may_unmute


def unmute(policy: Policy, state: MeetingState, event: UnmuteRequested) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    if not person.muted:
        return allow(Reason.ALREADY_UNMUTED, "/audio/unmute")
    mode = policy.audio.unmute
    if not may_unmute_now(policy, person):
        if mode == "after_raised_hand":
            return refuse(Reason.UNMUTE_NEEDS_RAISED_HAND, "/audio/unmute")
        return refuse(Reason.UNMUTE_HOST_ONLY, "/audio/unmute")
    effects: list[Effect] = [SetMuted(person.id, False)]
    if "microphone" in person.published:
        effects.append(OpenGate(person.id, "microphone"))
    if person.hand_raised:
        effects.append(SetHand(person.id, False))
    effects.append(Notify("everyone", "audio_changed", person.id))
    return allow(Reason.UNMUTED, "/audio/unmute", *effects)


def self_muted(policy: Policy, state: MeetingState, event: SelfMuted) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    return allow(
        Reason.MUTED,
        "/audio",
        *_mute_effects(person),
        Notify("everyone", "audio_changed", person.id),
        who="you",
    )


def mute(policy: Policy, state: MeetingState, event: MuteRequested) -> Decision:
    target = host_target(state, event.actor, event.participant)
    if isinstance(target, Decision):
        return target
    return allow(
        Reason.MUTED,
        "/audio/unmute",
        *_mute_effects(target),
        AllowUnmute(target.id, False),
        Notify("participant", "muted_by_host", target.id),
        Notify("everyone", "audio_changed", target.id),
        who="participant",
        name=target.name,
    )


def mute_all(policy: Policy, state: MeetingState, event: MuteAllRequested) -> Decision:
    actor = host_acting(state, event.actor)
    if isinstance(actor, Decision):
        return actor
    effects: list[Effect] = []
    for person in state.admitted():
        if person.is_host:
            continue
        effects += _mute_effects(person)
        effects.append(AllowUnmute(person.id, False))
        effects.append(Notify("participant", "muted_by_host", person.id))
    effects.append(Notify("everyone", "audio_changed", None))
    return allow(Reason.MUTED_ALL, "/audio/unmute", *effects)


def ask_to_unmute(policy: Policy, state: MeetingState, event: AskToUnmuteRequested) -> Decision:
    target = host_target(state, event.actor, event.participant)
    if isinstance(target, Decision):
        return target
    effects: list[Effect] = [AllowUnmute(target.id, True)]
    if target.hand_raised:
        effects.append(SetHand(target.id, False))
    effects.append(Notify("participant", "asked_to_unmute", target.id))
    return allow(Reason.ASKED_TO_UNMUTE, "/audio/unmute", *effects, name=target.name)


def hand_raised(policy: Policy, state: MeetingState, event: HandRaised) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    return allow(
        Reason.HAND_RAISED,
        "/audio/unmute",
        SetHand(person.id, True),
        Notify("hosts", "hand_raised", person.id, params={"name": person.name}),
        Notify("everyone", "hand_changed", person.id),
    )


def hand_lowered(policy: Policy, state: MeetingState, event: HandLowered) -> Decision:
    if event.actor is not None and event.actor != event.participant:
        target = host_target(state, event.actor, event.participant)
        if isinstance(target, Decision):
            return target
        person = target
    else:
        found = in_meeting(state, event.participant)
        if isinstance(found, Decision):
            return found
        person = found
    return allow(
        Reason.HAND_LOWERED,
        "/audio/unmute",
        SetHand(person.id, False),
        Notify("everyone", "hand_changed", person.id),
    )
