"""The next MeetingState from a decision's effects (the engine's bookkeeping half).

The runtime calls this for the state and performs the outward effects
itself (gates, timers, messages); replays and policy tests call only this.
"""

from __future__ import annotations

from dataclasses import replace

from . import effects as fx
from .decision import Decision
from .model import Policy
from .state import MeetingState, Participant, PeopleEdit, changed

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
    people = PeopleEdit(state)  # the meeting's people copied once, not once an effect
    for effect in decision.effects:
        match effect:
            case fx.AddParticipant(participant=newcomer):
                people.put(newcomer)
            case fx.Admit(participant=pid):
                people.update(pid, status="admitted")
            case fx.SendToWaitingRoom(participant=pid):
                person = people.get(pid)
                if person is not None:
                    people.put(_back_to_waiting(person, decision, at))
            case fx.Dismiss(participant=pid):
                people.remove(pid)
            case fx.SetConnected(participant=pid, connected=connected):
                people.update(pid, connected=connected)
            case fx.BanIdentities(identities=keys):
                people.state = replace(people.state, bans=people.state.bans | keys)
            case fx.RequireWaitingRoom(identities=keys):
                people.state = replace(people.state, must_wait=people.state.must_wait | keys)
            case fx.SetMuted(participant=pid, muted=muted):
                people.update(pid, muted=muted)
            case fx.AllowUnmute(participant=pid, allowed=allowed):
                people.update(pid, may_unmute=allowed)
            case fx.SetHand(participant=pid, raised=raised):
                people.update(pid, hand_raised=raised)
            case fx.OpenGate(participant=pid, source=source):
                person = people.get(pid)
                if person is not None:
                    people.put(changed(person, open_gates=person.open_gates | {source}))
            case fx.CloseGate(participant=pid, source=source):
                person = people.get(pid)
                if person is not None:
                    people.put(changed(person, open_gates=person.open_gates - {source}))
            case fx.MarkPublished(participant=pid, source=source, published=published):
                person = people.get(pid)
                if person is not None:
                    sources = (
                        person.published | {source} if published else person.published - {source}
                    )
                    people.put(changed(person, published=sources))
            case fx.SetGrant(participant=pid, grant=grant):
                person = people.get(pid)
                if person is not None:
                    kept = tuple(g for g in person.grants if g.kind != grant.kind)
                    people.put(changed(person, grants=(*kept, grant)))
                    next_id = max(people.state.next_grant_id, grant.grant_id + 1)
                    people.state = replace(people.state, next_grant_id=next_id)
            case fx.EndGrant(participant=pid, kind=kind):
                person = people.get(pid)
                if person is not None:
                    grants = tuple(g for g in person.grants if g.kind != kind)
                    people.put(changed(person, grants=grants))
            case fx.SetRole(participant=pid, role=role):
                people.update(pid, role=role)
            case fx.SetName(participant=pid, name=name):
                people.update(pid, name=name)
            case fx.SetLocked(locked=locked):
                people.state = replace(people.state, locked=locked)
            case fx.SetPolicy(policy=new):
                policy = new
            case fx.SetCamera(participant=pid, status=status):
                people.update(pid, camera=status)
            case fx.EndMeeting():
                people.state = replace(people.state, ended=True)
            case _:
                pass  # outward only: timers, notifications, chat, files
    return policy, people.done()
