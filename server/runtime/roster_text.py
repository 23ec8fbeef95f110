"""The roster as JSON text, kept between decisions: each entry encoded once per change.

``admitted`` carries the whole roster, so a join in a meeting of N built and encoded N
entries, and ``admit_all`` of K people in one decision did it K times over (O(K x N)).
A decision replaces only the ``Participant`` objects it changes (frozen dataclasses,
``PeopleEdit``), so an entry's text stays valid while its person is
the very same object: a new state re-encodes only the people who changed, and the same
state (every ``admitted`` of one decision) reuses the whole text. A ``roster_update``
batch carries the same entries: it takes each person's kept text too (``entry``), so an
admission encodes its newcomer's entry once, not once more for each batch that names them.
"""

from __future__ import annotations

from pydantic import BaseModel

from meetwarden import protocol as wire
from meetwarden.policies.state import MeetingState, Participant

from .views import roster_entry

__all__ = ["RosterText", "roster_update", "with_roster"]


class RosterText:
    """The JSON array of a state's roster entries, as ``views.roster`` gives them."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Participant, str]] = {}
        self._state: MeetingState | None = None
        self._text = "[]"

    def of(self, state: MeetingState) -> str:
        if state is self._state:
            return self._text
        entries = self._entries
        kept: dict[str, tuple[Participant, str]] = {}
        for pid, person in state.participants.items():
            if person.status == "admitted":  # ``admitted``, read without a call: N a join
                cached = entries.get(pid)
                if cached is None or cached[0] is not person:
                    cached = (person, _encoded(person))
                kept[pid] = cached
        self._entries, self._state = kept, state
        self._text = "[" + ",".join([cached[1] for cached in kept.values()]) + "]"
        return self._text

    def entry(self, person: Participant) -> str:
        """``person``'s roster entry as JSON text: the kept one while they are the very
        same object, else encoded and kept for the next roster (``of``) or batch."""
        cached = self._entries.get(person.id)
        if cached is None or cached[0] is not person:
            cached = self._entries[person.id] = (person, _encoded(person))
        return cached[1]


def _encoded(person: Participant) -> str:
    return roster_entry(person).model_dump_json()


def _spliced(message: BaseModel, field: str, array: str) -> str:
    """``message`` (built with ``field`` an empty list) encoded with the JSON ``array``
    spliced in as that field's value.

    The one ``"field":[]`` in the text is the field's: inside a JSON string a quote is
    always escaped (RFC 8259, section 7), so no name or other value can spell it.
    """
    empty = f'"{field}":[]'
    head, found, tail = message.model_dump_json().partition(empty)
    assert found, f"a message with an empty {field} field"
    return f'{head}"{field}":{array}{tail}'


def with_roster(message: BaseModel, roster: str) -> str:
    """``message`` (built with ``roster=[]``) encoded with ``roster`` spliced in."""
    return _spliced(message, "roster", roster)


def roster_update(entries: list[str], removed: list[str]) -> str:
    """A ``roster_update`` of entries kept as text (``RosterText.entry``), encoded."""
    return _spliced(wire.RosterUpdate(removed=removed), "entries", "[" + ",".join(entries) + "]")
