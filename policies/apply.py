"""The next MeetingState from a decision's effects (the engine's bookkeeping half).

The runtime calls this for the state and performs the outward effects
itself (gates, timers, messages); replays and policy tests call only this.
"""

from __future__ import annotations

from dataclasses import replace

from . import effects as fx
from .decision import Decision
from .model import Policy
from .state import MeetingState, Participant, changed

__all__ = ["apply", "touched_by"]


def touched_by(decision: Decision) -> tuple[str, ...]:
    """The ids of the people ``apply`` may change for this decision, in the order of its
    effects: every effect that changes a person names them (a newcomer by its
    ``Participant``), and no other person's object is replaced. Who changed is then
    found among these alone, not by a pass over the whole meeting
    (``server/runtime/view_changes.py``)."""
    ids: dict[str, None] = {}
    for effect in decision.effects:
        named = getattr(effect, "participant", None)
        if isinstance(named, Participant):
            ids[named.id] = None
        elif isinstance(named, str):
            ids[named] = None
    return tuple(ids)


def _update(state: MeetingState, participant_id: str, **changes: object) -> MeetingState:
    person = state.get(participant_id)
    if person is None:
        return state
    return state.with_participant(changed(person, **changes))


def _back_to_waiting(person: Participant, decision: Decision, at: float) -> Participant:
    return changed(
        person,
        status="waiting",
        waiting_since=at,
        waiting_reason=str(decision.reason),
        waiting_rule=decision.rule,
        open_gates=frozenset(),
        published=frozenset(),
        grants=(),
        hand_raised=False,
        may_unmute=False,
        muted=True,
        camera="not_required",
    )


def apply(
    policy: Policy, state: MeetingState, decision: Decision, *, at: float
) -> tuple[Policy, MeetingState]:
    """Applies the state-changing effects in order; returns the (possibly new) policy and state.

    ``at`` is the time of the event decided (the engine reads no clock): someone sent back
    to the waiting room waits from then."""
    for effect in decision.effects:
        match effect:
            case fx.AddParticipant(participant=newcomer):
                state = state.with_participant(newcomer)
            case fx.Admit(participant=pid):
                state = _update(state, pid, status="admitted")
            case fx.SendToWaitingRoom(participant=pid):
                person = state.get(pid)
                if person is not None:
                    state = state.with_participant(_back_to_waiting(person, decision, at))
            case fx.Dismiss(participant=pid):
                state = state.without_participant(pid)
            case fx.SetConnected(participant=pid, connected=connected):
                state = _update(state, pid, connected=connected)
            case fx.BanIdentities(identities=keys):
                state = replace(state, bans=state.bans | keys)
            case fx.RequireWaitingRoom(identities=keys):
                state = replace(state, must_wait=state.must_wait | keys)
            case fx.SetMuted(participant=pid, muted=muted):
                state = _update(state, pid, muted=muted)
            case fx.AllowUnmute(participant=pid, allowed=allowed):
                state = _update(state, pid, may_unmute=allowed)
            case fx.SetHand(participant=pid, raised=raised):
                state = _update(state, pid, hand_raised=raised)
            case fx.OpenGate(participant=pid, source=source):
                person = state.get(pid)
                if person is not None:
                    state = _update(state, pid, open_gates=person.open_gates | {source})
            case fx.CloseGate(participant=pid, source=source):
                person = state.get(pid)
                if person is not None:
                    state = _update(state, pid, open_gates=person.open_gates - {source})
            case fx.MarkPublished(participant=pid, source=source, published=published):
                person = state.get(pid)
                if person is not None:
                    sources = (
                        person.published | {source} if published else person.published - {source}
                    )
                    state = _update(state, pid, published=sources)
            case fx.SetGrant(participant=pid, grant=grant):
                person = state.get(pid)
                if person is not None:
                    kept = tuple(g for g in person.grants if g.kind != grant.kind)
                    state = _update(state, pid, grants=(*kept, grant))
                    state = replace(
                        state, next_grant_id=max(state.next_grant_id, grant.grant_id + 1)
                    )
            case fx.EndGrant(participant=pid, kind=kind):
                person = state.get(pid)
                if person is not None:
                    state = _update(
                        state, pid, grants=tuple(g for g in person.grants if g.kind != kind)
                    )
            case fx.SetRole(participant=pid, role=role):
                state = _update(state, pid, role=role)
            case fx.SetName(participant=pid, name=name):
                state = _update(state, pid, name=name)
            case fx.SetLocked(locked=locked):
                state = replace(state, locked=locked)
            case fx.SetPolicy(policy=new):
                policy = new
            case fx.SetCamera(participant=pid, status=status):
                state = _update(state, pid, camera=status)
            case fx.EndMeeting():
                state = replace(state, ended=True)
            case _:
                pass  # outward only: timers, notifications, chat, files
    return policy, state
