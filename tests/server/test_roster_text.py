"""The roster spliced into ``admitted`` as kept text is the very text pydantic would write.

Names and meeting names that spell the field (``"roster":[]``) inside them cannot be
taken for it: a quote inside a JSON string is always escaped.
"""

from __future__ import annotations

from meetwarden import protocol as wire
from meetwarden.policies.state import MeetingState, Participant, changed
from meetwarden.server.runtime.roster_text import RosterText, roster_update, with_roster
from meetwarden.server.runtime.views import roster_entry

TRAP = '"roster":[]'
ENTRIES_TRAP = '"entries":[]'


def test_the_spliced_admitted_is_byte_for_byte_the_whole_encoding() -> None:
    entries = [
        wire.RosterEntry(
            id="p_1",
            name=f"Ana {TRAP} Silva",
            role="host",
            muted=True,
            hand_raised=False,
            publishing=["camera"],
            connected=True,
            grants=[],
        ),
        wire.RosterEntry(
            id="p_2",
            name="Zoë 名前",
            role="participant",
            muted=False,
            hand_raised=True,
            publishing=[],
            connected=False,
            grants=["screen"],
        ),
    ]
    fields = {
        "meeting": wire.MeetingInfo(
            meeting_id="m", name=f"Weekly {TRAP}", locked=False, policy_revision=1
        ),
        "you": wire.SelfState(
            participant_id="p_1",
            name=TRAP,
            role="host",
            muted=True,
            may_unmute=True,
            hand_raised=False,
        ),
        "resume_token": "t",
        "reason": "admitted",
        "message": f"In {TRAP}",
    }
    whole = wire.Admitted(roster=entries, **fields).model_dump_json()
    text = "[" + ",".join(entry.model_dump_json() for entry in entries) + "]"
    assert with_roster(wire.Admitted(roster=[], **fields), text) == whole


def test_a_roster_update_of_kept_entries_is_byte_for_byte_the_whole_encoding() -> None:
    ana = Participant(id="p_1", name=f"Ana {ENTRIES_TRAP}", role="host", status="admitted")
    bao = Participant(id="p_2", name="Bao 名前", role="participant", status="admitted")
    texts = RosterText()
    whole = wire.RosterUpdate(
        entries=[roster_entry(ana), roster_entry(bao)], removed=[ENTRIES_TRAP, "p_3"]
    ).model_dump_json()
    spliced = roster_update([texts.entry(ana), texts.entry(bao)], [ENTRIES_TRAP, "p_3"])
    assert spliced == whole
    assert roster_update([], []) == wire.RosterUpdate().model_dump_json()


def test_an_entry_is_kept_while_its_person_is_the_same_and_remade_when_they_change() -> None:
    ana = Participant(id="p_1", name="Ana Silva", role="host", status="admitted")
    texts = RosterText()
    first = texts.entry(ana)
    assert texts.entry(ana) is first
    raised = changed(ana, hand_raised=True)
    assert wire.RosterEntry.model_validate_json(texts.entry(raised)).hand_raised
    # the whole roster, later, is the state's people as they are now
    state = MeetingState(participants={"p_1": raised})
    assert texts.of(state) == "[" + roster_entry(raised).model_dump_json() + "]"
