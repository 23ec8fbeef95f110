"""The roster as JSON text, kept between decisions: each entry encoded once per change.

``admitted`` carries the whole roster, so a join in a meeting of N built and encoded N
entries, and ``admit_all`` of K people in one decision did it K times over (O(K x N)).
A decision replaces only the ``Participant`` objects it changes (frozen dataclasses,
``PeopleEdit``), so an entry's text stays valid while its person is
the very same object: a new state re-encodes only the people who changed, and the same
state (every ``admitted`` of one decision) reuses the whole text.
"""

from __future__ import annotations

from pydantic import BaseModel

from meetwarden.policies.state import MeetingState, Participant

from .views import roster_entry

__all__ = ["RosterText", "with_roster"]

_EMPTY_ROSTER = '"roster":[]'


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
                    cached = (person, roster_entry(person).model_dump_json())
                kept[pid] = cached
        self._entries, self._state = kept, state
        self._text = "[" + ",".join([cached[1] for cached in kept.values()]) + "]"
        return self._text


def with_roster(message: BaseModel, roster: str) -> str:
    """``message`` (built with ``roster=[]``) encoded with ``roster`` spliced in.

    The one ``"roster":[]`` in the text is the field's: inside a JSON string a quote is
    always escaped (RFC 8259, section 7), so no name or other value can spell it.
    """
    head, found, tail = message.model_dump_json().partition(_EMPTY_ROSTER)
    assert found, "a message with a roster field"
    return f'{head}"roster":{roster}{tail}'
