"""The roster spliced into ``admitted`` as kept text is the very text pydantic would write.

Names and meeting names that spell the field (``"roster":[]``) inside them cannot be
taken for it: a quote inside a JSON string is always escaped.
"""

from __future__ import annotations

from meetwarden import protocol as wire
from meetwarden.server.runtime.roster_text import with_roster

TRAP = '"roster":[]'


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
