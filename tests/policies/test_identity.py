"""Who a person is (``entry.identity``): what removals and bans hold against.

``anyone``: a device and a name (and an invite if one was used), so a person
who comes back from another device under another name is someone new.
``invited``: a personal invite, one person at a time; removals and bans hold
against it whatever name or device is used.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meetwarden.policies.explain import explain
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.testing import Meeting, expect
from meetwarden.server.i18n import explanation_text

INVITED = {"entry": {"identity": "invited", "waiting_room": {"enabled": False}}}
OPEN = {"entry": {"waiting_room": {"enabled": False}}}


def person(name: str, device: str, invite: str | None = None) -> dict[str, Any]:
    skeleton = name.lower()
    facts: dict[str, Any] = {"identities": [f"device:{device}", f"name:{skeleton}"]}
    if invite is not None:
        facts.update(invited=True, invite=invite)
    return {"name": name, **facts}


def hosted(policy: dict[str, Any]) -> Meeting:
    meeting = Meeting(policy)
    expect(meeting.join("h", "Alice Host", role="host"), allowed=True)
    return meeting


def test_with_invited_only_a_personal_invite_opens_the_meeting() -> None:
    meeting = hosted(INVITED)
    refused = meeting.join("s", **person("Sam Stranger", "d1"))
    expect(refused, allowed=False, reason="invite_required", rule="/entry/identity")
    expect(meeting.join("b", **person("Bob Smith", "d2", "inv-bob")), reason="admitted")


def test_an_invite_is_one_person_while_they_hold_it() -> None:
    meeting = hosted(INVITED)
    expect(meeting.join("b", **person("Bob Smith", "d1", "inv-bob")), allowed=True)
    second = meeting.join("m", **person("Mallory Moss", "d2", "inv-bob"))
    expect(second, allowed=False, reason="invite_in_use", rule="/entry/identity")
    meeting.event({"type": "disconnected", "participant": "b"})  # away, may resume: still held
    expect(meeting.join("m2", **person("Mallory Moss", "d2", "inv-bob")), reason="invite_in_use")
    meeting.event({"type": "left", "participant": "b"})
    again = meeting.join("b2", **person("Bob Smith", "d3", "inv-bob"))
    expect(again, allowed=True, reason="admitted")  # gone: the invite is free again


def test_with_invited_a_removed_person_stays_out_under_any_name_from_any_device() -> None:
    meeting = hosted(INVITED)
    meeting.join("b", **person("Bob Smith", "d1", "inv-bob"))
    expect(meeting.event({"type": "remove", "actor": "h", "participant": "b"}), allowed=True)
    back = meeting.join("b2", **person("Robert Other", "d9", "inv-bob"))
    expect(back, allowed=False, reason="banned", rule="/removal/rejoin")
    # Bans hold by invite, not by name: someone else invited, with the same name, gets in.
    namesake = meeting.join("n", **person("Bob Smith", "d7", "inv-other"))
    expect(namesake, allowed=True, reason="admitted")


def test_with_anyone_a_removed_person_is_back_under_another_name_from_another_device() -> None:
    """What ``explain`` says plainly: with ``anyone`` a ban holds against a device and a name."""
    meeting = hosted(OPEN)
    meeting.join("b", **person("Bob Smith", "d1"))
    meeting.event({"type": "remove", "actor": "h", "participant": "b"})
    expect(meeting.join("b2", **person("Bob Smith", "d9")), reason="banned")  # the same name
    expect(meeting.join("b3", **person("Rob Other", "d1")), reason="banned")  # the same device
    expect(meeting.join("b4", **person("Robert Other", "d9")), allowed=True, reason="admitted")


def test_a_hosts_ban_holds_against_the_invite() -> None:
    meeting = hosted({"entry": {"identity": "invited"}, "removal": {"rejoin": "allowed"}})
    meeting.join("b", **person("Bob Smith", "d1", "inv-bob"))
    meeting.event({"type": "admit", "actor": "h", "participant": "b"})
    meeting.event({"type": "ban", "actor": "h", "participant": "b"})
    expect(meeting.join("b2", **person("New Name", "d2", "inv-bob")), reason="banned")


def test_rejoin_via_the_waiting_room_holds_against_the_invite() -> None:
    policy = {
        "entry": {"identity": "invited", "waiting_room": {"bypass": ["host", "invited"]}},
        "removal": {"rejoin": "via_waiting_room"},
    }
    meeting = hosted(policy)
    expect(meeting.join("b", **person("Bob Smith", "d1", "inv-bob")), reason="admitted")
    meeting.event({"type": "remove", "actor": "h", "participant": "b"})
    back = meeting.join("b2", **person("Other Name", "d2", "inv-bob"))
    expect(back, allowed=True, reason="waiting_for_host")


def test_turning_invited_on_sends_out_those_waiting_without_their_own_invite() -> None:
    meeting = hosted({})
    meeting.join("s", **person("Sam Stranger", "d1"))
    meeting.join("b", **person("Bob Smith", "d2", "inv-bob"))
    meeting.join("m", **person("Mallory Moss", "d3", "inv-bob"))  # a shared link
    policy = {"entry": {"identity": "invited"}}
    update = meeting.event({"type": "policy_update", "actor": "h", "policy": policy})
    expect(update, allowed=True)
    assert {p.id for p in meeting.state.waiting()} == {"b"}


def _explained(policy: Policy) -> dict[str, str]:
    return {line.rule: explanation_text(line, "en") for line in explain(policy)}


def test_explain_says_what_a_ban_holds_against_in_each_mode() -> None:
    anyone = _explained(validate_policy({}))
    assert "their device and their name only" in anyone["/removal/rejoin"]
    assert "another name from another device" in anyone["/removal/rejoin"]
    invited = _explained(validate_policy({"entry": {"identity": "invited"}}))
    assert "personal invite, whatever name or device" in invited["/removal/rejoin"]
    assert invited["/entry/identity"].startswith("Only people with a personal invite")


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["join", "leave", "remove", "disconnect"]),
            st.integers(0, 5),
            st.sampled_from(["inv-1", "inv-2", "inv-3"]),
        ),
        max_size=30,
    )
)
def test_never_two_people_in_the_meeting_with_one_invite(
    steps: list[tuple[str, int, str]],
) -> None:
    meeting = hosted(INVITED)
    for number, (action, who, invite) in enumerate(steps):
        pid = f"p{who}"
        if action == "join":
            meeting.join(f"{pid}-{number}", **person(f"Person Number{who}", f"d{who}", invite))
        else:
            inside = [p.id for p in meeting.state.participants.values() if p.id.startswith(pid)]
            for target in inside[:1]:
                event = {
                    "leave": {"type": "left", "participant": target},
                    "remove": {"type": "remove", "actor": "h", "participant": target},
                    "disconnect": {"type": "disconnected", "participant": target},
                }[action]
                meeting.event(event)
        held = [p.invite for p in meeting.state.participants.values() if p.invite is not None]
        assert len(held) == len(set(held))
