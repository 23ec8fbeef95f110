"""Entry: joining, the waiting room, password, lock, capacity, admit and deny.

A password or a lock added mid-meeting holds for everyone not yet admitted
(jitsi-meet#5720 is the bug where it did not); people who arrived before the
host stay in the waiting room when the host comes (jitsi-meet#7676).
"""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import AddParticipant, Admit, Dismiss, Effect, Notify, SetLocked
from ..events import (
    AdmitAllRequested,
    AdmitRequested,
    DenyRequested,
    JoinRequested,
    Left,
    LockRequested,
)
from ..model import Policy
from ..names import check_full_name
from ..reasons import Reason
from ..state import MeetingState, Participant, counted_source
from .common import admission_effects, host_acting, teardown_effects
from .identity import identity_refusal, matched_keys, person_keys

__all__ = ["admit", "admit_all", "deny", "join", "leave", "lock", "name_refusal"]


def protected_names(policy: Policy, state: MeetingState, excluding: str) -> list[str]:
    roles = policy.entry.full_name.reject_lookalikes_of
    if not roles:
        return []
    return [p.name for p in state.hosts() if p.role in roles and p.id != excluding]


def name_refusal(
    policy: Policy, state: MeetingState, participant_id: str, name: str, role: str
) -> tuple[str, Decision | None]:
    """The normalised name, or the refusal the full-name rules give it."""
    rules = policy.entry.full_name
    if role == "host":
        # The host chose the policy; its own name is only checked for safety.
        rules = rules.model_copy(update={"blocked_words": (), "reject_lookalikes_of": ()})
    verdict = check_full_name(name, rules, protected_names(policy, state, participant_id))
    if verdict.ok:
        return verdict.name, None
    reason = Reason(verdict.reason or Reason.NAME_INVALID_CHARACTERS)
    return name, refuse(reason, verdict.rule, **verdict.params)


def _capacity_refusal(policy: Policy, state: MeetingState) -> Decision | None:
    if state.admitted_count() >= policy.entry.max_participants:
        return refuse(Reason.MEETING_FULL, "/entry/max_participants")
    return None


def _password_refusal(policy: Policy, event: JoinRequested) -> Decision | None:
    if not policy.entry.password or event.invited or event.password_ok:
        return None
    if event.password_ok is None:
        return refuse(Reason.PASSWORD_REQUIRED, "/entry/password")
    return refuse(Reason.WRONG_PASSWORD, "/entry/password")


def _bypasses_waiting_room(policy: Policy, state: MeetingState, event: JoinRequested) -> str | None:
    """The JSON pointer that lets this person skip the waiting room, if any."""
    room = policy.entry.waiting_room
    if event.role == "host":
        return "/entry/waiting_room/bypass"
    if state.must_wait.intersection(matched_keys(policy, event)):
        return None
    if not room.enabled:
        return "/entry/waiting_room/enabled"
    if event.role == "cohost" and "cohost" in room.bypass:
        return "/entry/waiting_room/bypass"
    if event.invited and "invited" in room.bypass:
        return "/entry/waiting_room/bypass"
    return None


def source_share(policy: Policy) -> int:
    """How many people from one network may wait at once (at least one)."""
    entry = policy.entry
    return max(1, entry.max_participants * entry.waiting_room.max_share_per_source // 100)


def _waiting_refusal(policy: Policy, state: MeetingState, event: JoinRequested) -> Decision | None:
    if state.waiting_count() >= policy.entry.max_participants:
        return refuse(Reason.WAITING_ROOM_FULL, "/entry/max_participants")
    source = counted_source(event.role, event.invited, event.source)
    if source is not None and state.waiting_from(source) >= source_share(policy):
        return refuse(Reason.WAITING_ROOM_SOURCE_FULL, "/entry/waiting_room/max_share_per_source")
    return None


def join(policy: Policy, state: MeetingState, event: JoinRequested) -> Decision:
    if state.ended:
        return refuse(Reason.MEETING_ENDED, BUILTIN_RULE)
    if event.participant in state.participants:
        return refuse(Reason.ALREADY_IN_MEETING, BUILTIN_RULE)
    host = event.role == "host"
    if not host:
        # The password first: without it, nothing else about the meeting is told (a
        # banned name would otherwise learn that the meeting exists).
        refusal = _password_refusal(policy, event)
        if refusal is not None:
            return refusal
        if state.bans.intersection(matched_keys(policy, event)):
            return refuse(Reason.BANNED, "/removal/rejoin")
        refusal = identity_refusal(policy, state, event)
        if refusal is not None:
            return refusal
        if state.locked:
            return refuse(Reason.MEETING_LOCKED, "/entry/locked", who="you")
    name, refusal = name_refusal(policy, state, event.participant, event.name, event.role)
    if refusal is not None:
        return refusal
    bypass = _bypasses_waiting_room(policy, state, event)
    person = Participant(
        id=event.participant,
        name=name,
        role=event.role,
        status="admitted" if bypass else "waiting",
        joined_at=event.at,
        waiting_since=event.at,
        invited=event.invited,
        invite=event.invite,
        identities=person_keys(event),
        password_ok=event.password_ok,
        source=event.source,
    )
    if bypass is None:
        refusal = _waiting_refusal(policy, state, event)
        if refusal is not None:
            return refusal
        return allow(
            Reason.WAITING_FOR_HOST,
            "/entry/waiting_room/enabled",
            AddParticipant(person),
            Notify("hosts", "waiting_room_changed", person.id, params={"name": name}),
        )
    if not host:
        refusal = _capacity_refusal(policy, state)
        if refusal is not None:
            return refusal
    reason = Reason.HOST_JOINED if host else Reason.ADMITTED
    return allow(
        reason,
        bypass,
        AddParticipant(person),
        *admission_effects(policy, person, event.at),
    )


def _admission(policy: Policy, state: MeetingState, person: Participant, at: float) -> list[Effect]:
    return [Admit(person.id), *admission_effects(policy, person, at)]


def admit(policy: Policy, state: MeetingState, event: AdmitRequested) -> Decision:
    actor = host_acting(state, event.actor)
    if isinstance(actor, Decision):
        return actor
    target = state.get(event.participant)
    if target is None or target.admitted:
        return refuse(Reason.NOT_WAITING, "/entry/waiting_room", action="admit")
    if state.locked:
        return refuse(Reason.MEETING_LOCKED, "/entry/locked", who="host")
    refusal = _capacity_refusal(policy, state)
    if refusal is not None:
        return refusal
    return allow(
        Reason.ADMITTED_BY_HOST,
        "/entry/waiting_room/enabled",
        *_admission(policy, state, target, event.at),
        name=target.name,
    )


def admit_all(policy: Policy, state: MeetingState, event: AdmitAllRequested) -> Decision:
    actor = host_acting(state, event.actor)
    if isinstance(actor, Decision):
        return actor
    if state.locked:
        return refuse(Reason.MEETING_LOCKED, "/entry/locked", who="host")
    room = policy.entry.max_participants - state.admitted_count()
    waiting = list(state.waiting())
    admitted = waiting[: max(room, 0)]
    effects: list[Effect] = []
    for person in admitted:
        effects += _admission(policy, state, person, event.at)
    return allow(
        Reason.ADMITTED_BY_HOST,
        "/entry/waiting_room/enabled",
        *effects,
        who="all",
        count=len(admitted),
        still_waiting=len(waiting) - len(admitted),
    )


def deny(policy: Policy, state: MeetingState, event: DenyRequested) -> Decision:
    actor = host_acting(state, event.actor)
    if isinstance(actor, Decision):
        return actor
    target = state.get(event.participant)
    if target is None or target.admitted:
        return refuse(Reason.NOT_WAITING, "/entry/waiting_room", action="deny")
    return allow(
        Reason.DENIED,
        "/entry/waiting_room/enabled",
        Dismiss(target.id, "denied"),
        Notify("hosts", "waiting_room_changed", target.id),
        name=target.name,
    )


def leave(policy: Policy, state: MeetingState, event: Left) -> Decision:
    person = state.get(event.participant)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="you")
    notice = (
        Notify("everyone", "roster_changed", person.id)
        if person.admitted
        else Notify("hosts", "waiting_room_changed", person.id)
    )
    return allow(
        Reason.LEFT,
        BUILTIN_RULE,
        *teardown_effects(person),
        Dismiss(person.id, "left"),
        notice,
    )


def lock(policy: Policy, state: MeetingState, event: LockRequested) -> Decision:
    actor = host_acting(state, event.actor)
    if isinstance(actor, Decision):
        return actor
    word = "locked" if event.locked else "unlocked"
    return allow(
        Reason.LOCK_CHANGED,
        "/entry/locked",
        SetLocked(event.locked),
        Notify("everyone", "lock_changed", None, params={"state": word}),
        state=word,
    )
