"""Presence: a dropped connection, a resume, and the place kept in between.

Someone whose connection drops keeps their place for ``entry.reconnect_seconds``:
admitted or waiting, role, mute, hand and grants stay as the meeting has them,
and a host may still act on them. A resume gives back the meeting's *current*
state for that person, never what a token recorded at admission nor the
policy's entry defaults (discourse/discourse#43922 is the bug where a LiveKit
reconnect got a new room token without the admission check). Media ends with
the connection: after resuming, each source is published and decided again.
When the time runs out the place is given up, and a later join goes through
the policy like anyone new.
"""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import (
    CancelTimer,
    CloseGate,
    Dismiss,
    Effect,
    EndMedia,
    MarkPublished,
    Notify,
    Reattach,
    SetCamera,
    SetConnected,
    StartTimer,
)
from ..events import Disconnected, ReconnectExpired, Resumed
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState, Participant
from .common import camera_required_for, teardown_effects

__all__ = ["disconnected", "media_ends", "reconnect_expired", "resumed"]

RULE = "/entry/reconnect_seconds"


def media_ends(person: Participant) -> list[Effect]:
    """The person's media connections end: every gate closes, nothing counts as published."""
    effects: list[Effect] = [EndMedia(person.id)]
    effects += [CloseGate(person.id, source) for source in sorted(person.open_gates)]
    effects += [MarkPublished(person.id, source, False) for source in sorted(person.published)]
    if "screen" in person.open_gates:
        effects.append(Notify("everyone", "share_stopped", person.id, params={"name": person.name}))
    return effects


def _seen_change(person: Participant) -> Notify:
    if person.admitted:
        return Notify("everyone", "roster_changed", person.id)
    return Notify("hosts", "waiting_room_changed", person.id)


def disconnected(policy: Policy, state: MeetingState, event: Disconnected) -> Decision:
    person = state.get(event.participant)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE)
    if not person.connected:
        return refuse(Reason.DISCONNECTED, RULE, already="yes")
    grace = policy.entry.reconnect_seconds
    if grace == 0:
        return allow(
            Reason.LEFT,
            RULE,
            *teardown_effects(person),
            Dismiss(person.id, "left"),
            _seen_change(person),
            who="participant",
            name=person.name,
            seconds=0,
        )
    return allow(
        Reason.DISCONNECTED,
        RULE,
        *media_ends(person),
        SetConnected(person.id, False),
        StartTimer("reconnect", person.id, event.at + grace),
        _seen_change(person),
        who="participant",
        name=person.name,
        seconds=grace,
    )


def resumed(policy: Policy, state: MeetingState, event: Resumed) -> Decision:
    person = state.get(event.participant)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, RULE, who="you", place="given_up")
    effects: list[Effect] = []
    if person.connected:  # a new connection replaces one not yet noticed dead
        effects += media_ends(person)
    else:
        effects += [SetConnected(person.id, True), CancelTimer("reconnect", person.id)]
    effects.append(Reattach(person.id))
    if person.admitted and camera_required_for(policy, person) and person.camera == "ok":
        # Working video must arrive again, as at admission; a camera still being
        # checked or lost keeps its running clock (a reconnect never extends it).
        camera = policy.entry.camera
        effects.append(SetCamera(person.id, "pending"))
        effects.append(StartTimer("camera_check", person.id, event.at + camera.check_seconds))
    effects.append(_seen_change(person))
    where = "meeting" if person.admitted else "waiting_room"
    return allow(Reason.READMITTED, RULE, *effects, place=where)


def reconnect_expired(policy: Policy, state: MeetingState, event: ReconnectExpired) -> Decision:
    person = state.get(event.participant)
    if person is None or person.connected:
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE)
    return allow(
        Reason.RECONNECT_EXPIRED,
        RULE,
        *teardown_effects(person),
        Dismiss(person.id, "left"),
        _seen_change(person),
        name=person.name,
    )
