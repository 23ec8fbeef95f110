"""The meeting as the engine sees it: roster, roles, waiting, mutes, grants, bans, lock.

State is immutable. The engine never changes it; ``apply`` (in ``apply.py``)
makes the next state from a decision's effects, so a meeting can be replayed
and tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Literal

from .events import Role, ShareKind, Source
from .model import Policy

__all__ = [
    "OWNER",
    "CameraStatus",
    "Grant",
    "MeetingState",
    "Participant",
    "PeopleEdit",
    "Status",
    "changed",
    "counted_source",
]

OWNER = "owner"
"""The actor id of the meeting's owner acting from outside the meeting (the host's REST
token): it has the host's powers. The server never gives a participant this id."""

Status = Literal["waiting", "admitted"]
CameraStatus = Literal["not_required", "pending", "ok", "missing", "lost"]


@dataclass(frozen=True, slots=True)
class Grant:
    """A host's permission for one participant to share a screen or files."""

    kind: ShareKind
    grant_id: int
    expires_at: float

    def live(self, now: float) -> bool:
        return now < self.expires_at


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    role: Role
    status: Status
    joined_at: float = 0.0
    waiting_since: float = 0.0
    """When this person last went into the waiting room: when they joined, or when a
    decision sent them back there (what the host's waiting time counts from)."""
    invited: bool = False
    invite: str | None = None
    """The invite the person joined with (its id), if any."""
    identities: frozenset[str] = frozenset()
    password_ok: bool | None = None
    source: str | None = None
    """The network the person joined from (an opaque key), for the waiting room's shares."""
    muted: bool = True
    """Muted by policy: the microphone gate stays closed while this is true."""
    may_unmute: bool = False
    """A host let this participant speak (after a raised hand, or host-only unmute)."""
    hand_raised: bool = False
    grants: tuple[Grant, ...] = ()
    published: frozenset[Source] = frozenset()
    """Sources the engine allowed to be published (their gates may still be closed)."""
    open_gates: frozenset[Source] = frozenset()
    """Sources whose media the server forwards right now."""
    camera: CameraStatus = "not_required"
    connected: bool = True
    """False while the connection is gone and the person may still resume (see
    ``entry.reconnect_seconds``); they keep their place, role, mute and grants."""
    waiting_reason: str = "waiting_for_host"
    """Why this person waits: the reason code of the decision that sent them back to the
    waiting room (``camera_missing``...), or ``waiting_for_host`` for a newcomer."""
    waiting_rule: str = ""
    """The rule (JSON pointer) of that decision; empty for a newcomer."""

    @property
    def is_host(self) -> bool:
        """Hosts and co-hosts: the people who run the meeting."""
        return self.role != "participant"

    @property
    def admitted(self) -> bool:
        return self.status == "admitted"

    def grant(self, kind: ShareKind) -> Grant | None:
        for grant in self.grants:
            if grant.kind == kind:
                return grant
        return None

    def live_grant(self, kind: ShareKind, now: float) -> Grant | None:
        grant = self.grant(kind)
        return grant if grant is not None and grant.live(now) else None


def counted_source(role: str, invited: bool, source: str | None) -> str | None:
    """The source (network) a waiting person counts against in the waiting room's share
    per source (``entry.waiting_room.max_share_per_source``); None for invited people,
    co-hosts and hosts, who are the host's own and never counted."""
    return source if role == "participant" and not invited else None


def _waiting_source(person: Participant | None) -> str | None:
    if person is None or person.status != "waiting":
        return None
    return counted_source(person.role, person.invited, person.source)


_FIELDS = Participant.__slots__
_VALUES = attrgetter(*_FIELDS)
_SETTERS = tuple(getattr(Participant, name).__set__ for name in _FIELDS)
"""Each field's slot descriptor's setter (what ``object.__setattr__`` finds by name)."""


def changed(person: Participant, **changes: Any) -> Participant:
    """``dataclasses.replace(person, **changes)`` at a third of its cost: the fields are
    copied as they are, each by its slot's own setter, not passed through ``__init__`` by
    name (a join and an admission replace a person several times). A name that is not a
    field raises AttributeError."""
    new = object.__new__(Participant)
    for setter, value in zip(_SETTERS, _VALUES(person), strict=True):
        setter(new, value)
    for name, value in changes.items():
        object.__setattr__(new, name, value)
    return new


@dataclass(frozen=True, slots=True)
class MeetingState:
    participants: Mapping[str, Participant] = field(default_factory=dict)
    """In arrival order, so the waiting list is first come, first served."""
    locked: bool = False
    bans: frozenset[str] = frozenset()
    """Identity keys refused for as long as the meeting lives."""
    must_wait: frozenset[str] = frozenset()
    """Identity keys removed with rejoin 'via_waiting_room': they wait even with a bypass."""
    next_grant_id: int = 1
    ended: bool = False
    _admitted: int = field(default=-1, init=False, repr=False, compare=False)
    """How many are admitted, once counted (-1: not yet). A state made
    by ``PeopleEdit`` from a counted one is counted from
    it: the count against ``max_participants`` at each join does not pass over a
    meeting of 1,000. ``replace`` leaves it uncounted (an init=False field)."""
    _hosts: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)
    """The ids of the hosts and co-hosts, once listed (None: not yet), kept from one state
    to the next as ``_admitted`` is: the look-alike check at each join reads the hosts'
    names, not the whole meeting's."""
    _sources: Mapping[str, int] | None = field(default=None, init=False, repr=False, compare=False)
    """How many wait from each source (``waiting_from``), once counted (None: not yet),
    kept from one state to the next: a join is not a pass over the waiting room."""

    @classmethod
    def initial(cls, policy: Policy) -> MeetingState:
        return cls(locked=policy.entry.locked)

    def get(self, participant_id: str) -> Participant | None:
        return self.participants.get(participant_id)

    def admitted(self) -> Iterator[Participant]:
        return (p for p in self.participants.values() if p.status == "admitted")

    def waiting(self) -> Iterator[Participant]:
        return (p for p in self.participants.values() if p.status == "waiting")

    def admitted_count(self) -> int:
        if self._admitted < 0:
            counted = sum(1 for p in self.participants.values() if p.status == "admitted")
            object.__setattr__(self, "_admitted", counted)  # a cache, not state
        return self._admitted

    def waiting_count(self) -> int:
        return len(self.participants) - self.admitted_count()

    def waiting_from(self, source: str) -> int:
        """How many wait from ``source``, counted as ``counted_source`` counts them."""
        if self._sources is None:
            counts: dict[str, int] = {}
            for person in self.participants.values():
                key = _waiting_source(person)
                if key is not None:
                    counts[key] = counts.get(key, 0) + 1
            object.__setattr__(self, "_sources", counts)  # a cache, not state
        assert self._sources is not None
        return self._sources.get(source, 0)

    def hosts(self) -> list[Participant]:
        """The hosts and co-hosts."""
        if self._hosts is None:
            ids = tuple(p.id for p in self.participants.values() if p.is_host)
            object.__setattr__(self, "_hosts", ids)  # a cache, not state
        assert self._hosts is not None
        return [self.participants[pid] for pid in self._hosts]

    def sharing_screens(self) -> list[Participant]:
        return [p for p in self.participants.values() if "screen" in p.open_gates]

    def _with_people(self, participants: Mapping[str, Participant]) -> MeetingState:
        """``replace(self, participants=participants)`` without its cost (a state is made
        for each person a decision changes): the other fields copied as they are, the
        caches left for ``_counted``."""
        new = object.__new__(MeetingState)
        for name in _STATE_FIELDS:
            object.__setattr__(new, name, getattr(self, name))
        for name, value in _STATE_CACHES:
            object.__setattr__(new, name, value)
        object.__setattr__(new, "participants", participants)
        return new

    def _edited(
        self,
        participants: dict[str, Participant],
        changes: list[tuple[Participant | None, Participant | None]],
    ) -> MeetingState:
        """This state with ``participants``, which ``changes`` (each person before and
        after, in order) made from this state's, counted from this one."""
        new = self._with_people(participants)
        counted = self
        for old, person in changes:
            counted = counted._counted(new, old, person)
        return new

    def _counted(
        self, new: MeetingState, old: Participant | None, person: Participant | None
    ) -> MeetingState:
        """``new`` (this state with ``old`` replaced by ``person``), counted from this one."""
        if self._admitted >= 0:
            was = old is not None and old.status == "admitted"
            now = person is not None and person.status == "admitted"
            object.__setattr__(new, "_admitted", self._admitted + now - was)
        hosts = self._hosts
        if hosts is not None:
            was_host = old is not None and old.is_host
            is_host = person is not None and person.is_host
            if was_host and not is_host:
                hosts = tuple(pid for pid in hosts if pid != old.id)  # type: ignore[union-attr]
            elif is_host and not was_host:
                hosts = (*hosts, person.id)  # type: ignore[union-attr]
            object.__setattr__(new, "_hosts", hosts)
        sources = self._sources
        if sources is not None:
            was_from, now_from = _waiting_source(old), _waiting_source(person)
            if was_from != now_from:
                counts = dict(sources)
                if was_from is not None:
                    counts[was_from] -= 1
                    if not counts[was_from]:
                        del counts[was_from]
                if now_from is not None:
                    counts[now_from] = counts.get(now_from, 0) + 1
                sources = counts
            object.__setattr__(new, "_sources", sources)
        return new


class PeopleEdit:
    """One decision's changes to the people of a meeting: their dict is copied once,
    however many people the decision changes (``admit_all`` at a webinar's start changes
    a thousand; a state made for each would copy the meeting's dict as many times), and
    the state's counts are carried from the state before, change by change.

    ``state`` is the state as edited so far in everything but its people (a decision may
    also ban or lock: ``dataclasses.replace`` it); ``done`` is the state with both."""

    __slots__ = ("_changes", "_made", "_people", "state")

    def __init__(self, state: MeetingState) -> None:
        self.state = state
        self._people: dict[str, Participant] | None = None
        self._changes: list[tuple[Participant | None, Participant | None]] = []
        self._made: dict[str, Participant] = {}
        """The people ``update`` made in this edit, by id: no one else holds them yet, so
        a second update of the same person (``admit`` and ``set_muted``) changes the one
        made, not a copy of it."""

    def get(self, participant_id: str) -> Participant | None:
        people = self._people
        return (self.state.participants if people is None else people).get(participant_id)

    def _copy(self) -> dict[str, Participant]:
        people = self._people
        if people is None:
            people = self._people = dict(self.state.participants)
        return people

    def put(self, person: Participant) -> None:
        """``person`` in the meeting, in their place if they were in it, else last."""
        people = self._copy()
        self._changes.append((people.get(person.id), person))
        people[person.id] = person

    def update(self, participant_id: str, **changes: Any) -> None:
        """The person with ``changes`` (a name that is not a field raises
        AttributeError); nothing if they are not in the meeting."""
        person = self.get(participant_id)
        if person is None:
            return
        if self._made.get(participant_id) is person:
            for name, value in changes.items():
                object.__setattr__(person, name, value)  # its change is counted at ``done``
            return
        person = self._made[participant_id] = changed(person, **changes)
        self.put(person)

    def remove(self, participant_id: str) -> None:
        if self.get(participant_id) is not None:
            self._changes.append((self._copy().pop(participant_id), None))

    def done(self) -> MeetingState:
        if self._people is None:
            return self.state
        return self.state._edited(self._people, self._changes)


_STATE_FIELDS = tuple(f.name for f in fields(MeetingState) if f.init and f.name != "participants")
_STATE_CACHES = tuple((f.name, f.default) for f in fields(MeetingState) if not f.init)
