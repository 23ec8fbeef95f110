"""What a decision changed in the views people see, found without rebuilding every view.

A decision replaces only the participants it changes (``MeetingState.with_participant``
copies the mapping and puts one new frozen ``Participant`` in it), so the people whose
views may differ are those whose object is not the very same before and after: one
pass of identity comparisons finds them, and only their entries are built and compared.
The roster and the waiting list then go out as changes (``roster_update``,
``waiting_update``): a join costs each reader one entry, not the whole meeting, which
made admitting N people cost O(N^2) (as LiveKit sends participant updates, not rooms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from meetwarden import protocol as wire
from meetwarden.policies.model import Policy
from meetwarden.policies.state import MeetingState, Participant

from .views import roster_entry, self_state, waiting_entry

__all__ = ["ViewChanges", "view_changes"]


@dataclass(frozen=True, slots=True)
class ViewChanges:
    """What changed: each list only when something in it did (else None)."""

    roster: wire.RosterUpdate | None
    waiting: wire.WaitingUpdate | None
    selves: dict[str, wire.SelfState]
    """The own state of each person (admitted or waiting) whose own state changed."""
    new_hosts: list[str]
    """Admitted people who were not hosts or co-hosts before: they need the whole
    waiting list, which no update they missed can give them."""


Touched = tuple[str, Participant | None, Participant | None]


def _touched(before: MeetingState, after: MeetingState) -> Iterator[Touched]:
    """(id, before, after) of every person whose object differs: new, changed or gone."""
    old_people, new_people = before.participants, after.participants
    for pid, person in new_people.items():
        old = old_people.get(pid)
        if old is not person:
            yield pid, old, person
    for pid, old in old_people.items():
        if pid not in new_people:
            yield pid, old, None


def view_changes(
    before: tuple[Policy, MeetingState],
    after: tuple[Policy, MeetingState],
    wall: Callable[[float], float],
) -> ViewChanges:
    old_policy, old_state = before
    policy, state = after
    roster_entries: list[wire.RosterEntry] = []
    roster_removed: list[str] = []
    waiting_entries: list[wire.WaitingEntry] = []
    waiting_removed: list[str] = []
    selves: dict[str, wire.SelfState] = {}
    new_hosts: list[str] = []
    touched = list(_touched(old_state, state))
    for pid, old, person in touched:
        was_in = old is not None and old.admitted
        is_in = person is not None and person.admitted
        if is_in:
            assert person is not None
            entry = roster_entry(person)
            if not was_in or entry != roster_entry(old):  # type: ignore[arg-type]
                roster_entries.append(entry)
            if person.is_host and not (was_in and old is not None and old.is_host):
                new_hosts.append(pid)
        elif was_in:
            roster_removed.append(pid)
        was_waiting = old is not None and not old.admitted
        is_waiting = person is not None and not person.admitted
        if is_waiting:
            assert person is not None
            waiting = waiting_entry(person, wall)
            if not was_waiting or waiting != waiting_entry(old, wall):  # type: ignore[arg-type]
                waiting_entries.append(waiting)
        elif was_waiting:
            waiting_removed.append(pid)
    # A person's own state also follows the policy (may they unmute now?): a new policy
    # is read against everyone, otherwise only against the people who changed.
    if policy is not old_policy:
        old_people = old_state.participants
        candidates = [(pid, old_people.get(pid), p) for pid, p in state.participants.items()]
    else:
        candidates = [(pid, old, p) for pid, old, p in touched if p is not None]
    for pid, old, person in candidates:
        assert person is not None
        mine = self_state(policy, person, wall)
        if old is not None and self_state(old_policy, old, wall) != mine:
            selves[pid] = mine
    return ViewChanges(
        roster=wire.RosterUpdate(entries=roster_entries, removed=roster_removed)
        if roster_entries or roster_removed
        else None,
        waiting=wire.WaitingUpdate(entries=waiting_entries, removed=waiting_removed)
        if waiting_entries or waiting_removed
        else None,
        selves=selves,
        new_hosts=new_hosts,
    )
