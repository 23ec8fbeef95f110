"""What a decision changed in the views people see, found without rebuilding every view.

A decision replaces only the participants it changes (``PeopleEdit``
copies the mapping and puts one new frozen ``Participant`` in it), so the people whose
views may differ are those whose object is not the very same before and after: one
pass of identity comparisons finds them, and only what their views show of them is
compared. The roster and the waiting list then go out as changes (``roster_update``,
``waiting_update``, gathered by ``view_batches.py``): a join costs each reader one
entry, not the whole meeting, which made admitting N people cost O(N^2) (as LiveKit
sends participant updates, not rooms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from meetwarden import protocol as wire
from meetwarden.policies.model import Policy
from meetwarden.policies.rules.audio import may_unmute_now
from meetwarden.policies.state import MeetingState, Participant

from .views import self_state

__all__ = ["ViewChanges", "view_changes"]


@dataclass(frozen=True, slots=True)
class ViewChanges:
    """What changed: the people whose entry changed or went, in each list."""

    roster: list[str]
    """Admitted people whose roster entry is new, changed or gone."""
    waiting: list[str]
    """People whose waiting-list entry is new, changed or gone."""
    selves: dict[str, wire.SelfState]
    """The own state of each person (admitted or waiting) whose own state changed."""
    new_hosts: list[str]
    """Admitted people who were not hosts or co-hosts before: they need the whole
    waiting list, which no update they missed can give them."""


Touched = tuple[str, Participant | None, Participant | None]


def _touched(
    before: MeetingState, after: MeetingState, among: Sequence[str] | None = None
) -> Iterator[Touched]:
    """(id, before, after) of every person whose object differs: new, changed or gone.
    ``among``: the only people who may have changed (``policies.apply.touched_by``),
    looked at alone; else a pass over everyone."""
    old_people, new_people = before.participants, after.participants
    if among is not None:
        for pid in among:
            old, person = old_people.get(pid), new_people.get(pid)
            if old is not person:
                yield pid, old, person
        return
    for pid, person in new_people.items():
        old = old_people.get(pid)
        if old is not person:
            yield pid, old, person
    for pid, old in old_people.items():
        if pid not in new_people:
            yield pid, old, None


# What each view shows of a person, as plain values: compared without building the
# wire models (views.py builds those, for what is sent).
def _roster_key(p: Participant) -> tuple[object, ...]:
    kinds = tuple(sorted(g.kind for g in p.grants))
    return (p.name, p.role, p.muted, p.hand_raised, p.open_gates, p.connected, kinds)


def _waiting_key(p: Participant) -> tuple[object, ...]:
    return (p.name, p.waiting_since, p.connected, p.waiting_reason, p.waiting_rule)


def _self_key(policy: Policy, p: Participant) -> tuple[object, ...]:
    unmute = may_unmute_now(policy, p)
    return (p.name, p.role, p.muted, unmute, p.hand_raised, p.grants, p.open_gates, p.camera)


def view_changes(
    before: tuple[Policy, MeetingState],
    after: tuple[Policy, MeetingState],
    wall: Callable[[float], float],
    among: Sequence[str] | None = None,
) -> ViewChanges:
    """``among``: the only people who may have changed, if known (see ``_touched``)."""
    old_policy, old_state = before
    policy, state = after
    roster: list[str] = []
    waiting: list[str] = []
    selves: dict[str, wire.SelfState] = {}
    new_hosts: list[str] = []
    touched = list(_touched(old_state, state, among))
    for pid, old, person in touched:
        was_in = old is not None and old.admitted
        is_in = person is not None and person.admitted
        if is_in:
            assert person is not None
            if not was_in or _roster_key(person) != _roster_key(old):  # type: ignore[arg-type]
                roster.append(pid)
            if person.is_host and not (was_in and old is not None and old.is_host):
                new_hosts.append(pid)
        elif was_in:
            roster.append(pid)
        was_waiting = old is not None and not old.admitted
        is_waiting = person is not None and not person.admitted
        if is_waiting:
            assert person is not None
            if not was_waiting or _waiting_key(person) != _waiting_key(old):  # type: ignore[arg-type]
                waiting.append(pid)
        elif was_waiting:
            waiting.append(pid)
    # A person's own state also follows the policy (may they unmute now?): a new policy
    # is read against everyone, otherwise only against the people who changed.
    if policy is not old_policy:
        old_people = old_state.participants
        candidates = [(pid, old_people.get(pid), p) for pid, p in state.participants.items()]
    else:
        candidates = [(pid, old, p) for pid, old, p in touched if p is not None]
    for pid, old, person in candidates:
        assert person is not None
        if old is not None and _self_key(old_policy, old) != _self_key(policy, person):
            selves[pid] = self_state(policy, person, wall)
    return ViewChanges(roster=roster, waiting=waiting, selves=selves, new_hosts=new_hosts)
