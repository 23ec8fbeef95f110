"""What each person is shown, derived from the engine's state.

A waiting participant learns nothing about the meeting: none of these views
is ever sent to someone who is not admitted, except their own ``SelfState``.
"""

from __future__ import annotations

from collections.abc import Callable

from meetwarden.policies.model import Policy
from meetwarden.policies.rules.audio import may_unmute_now
from meetwarden.policies.state import MeetingState, Participant
from meetwarden.protocol import (
    GrantInfo,
    MeetingInfo,
    RosterEntry,
    SelfState,
    WaitingEntry,
)

__all__ = [
    "meeting_info",
    "meeting_key",
    "roster",
    "roster_entry",
    "self_state",
    "waiting_entry",
    "waiting_list",
]


def roster_entry(p: Participant) -> RosterEntry:
    return RosterEntry(
        id=p.id,
        name=p.name,
        role=p.role,
        muted=p.muted,
        hand_raised=p.hand_raised,
        publishing=sorted(p.open_gates),
        connected=p.connected,
        grants=sorted(g.kind for g in p.grants),
    )


def roster(state: MeetingState) -> list[RosterEntry]:
    return [roster_entry(p) for p in state.participants.values() if p.admitted]


def waiting_entry(p: Participant, wall: Callable[[float], float]) -> WaitingEntry:
    return WaitingEntry(
        id=p.id,
        name=p.name,
        waiting_since=wall(p.waiting_since),
        connected=p.connected,
        reason=p.waiting_reason,
        rule=p.waiting_rule,
    )


def waiting_list(state: MeetingState, wall: Callable[[float], float]) -> list[WaitingEntry]:
    return [waiting_entry(p, wall) for p in state.participants.values() if not p.admitted]


def self_state(policy: Policy, person: Participant, wall: Callable[[float], float]) -> SelfState:
    return SelfState(
        participant_id=person.id,
        name=person.name,
        role=person.role,
        muted=person.muted,
        may_unmute=may_unmute_now(policy, person),
        hand_raised=person.hand_raised,
        grants=[GrantInfo(kind=g.kind, expires_at=wall(g.expires_at)) for g in person.grants],
        publishing=sorted(person.open_gates),
        camera=person.camera,
    )


def meeting_key(policy: Policy, state: MeetingState, revision: int) -> tuple[object, ...]:
    """What ``meeting_info`` shows of a meeting, as plain values (compared without
    building the model): keep the two in step."""
    return (policy.name, state.locked, revision)


def meeting_info(
    meeting_id: str, policy: Policy, state: MeetingState, revision: int
) -> MeetingInfo:
    return MeetingInfo(
        meeting_id=meeting_id, name=policy.name, locked=state.locked, policy_revision=revision
    )
