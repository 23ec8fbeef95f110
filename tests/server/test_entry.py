"""Getting in, end to end: waiting room, password, lock, names, invites, remove and ban."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    DismissedError,
    JoinRefusedError,
    MeetingClient,
    PolicyRefusedError,
    Removed,
    RosterChanged,
    WaitingListChanged,
)

pytestmark = pytest.mark.anyio
EXAMPLES = Path(__file__).parents[2] / "policies" / "examples"


async def test_a_guest_waits_until_the_host_admits_them(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    assert guest.status == "waiting"
    assert guest.roster == [], "a waiting participant learns nothing about the meeting"
    await admit(meeting.host, guest)
    assert guest.status == "admitted"
    assert {entry.name for entry in guest.roster} == {"Alice Chen", "Bob Smith"}
    assert guest.you is not None
    assert guest.you.muted, "muted on entry"
    await guest.close()
    await meeting.close()


async def test_a_denied_guest_is_told_and_disconnected(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == 1)
    assert guest.participant_id is not None
    await meeting.host.deny(guest.participant_id)
    with pytest.raises(DismissedError) as caught:
        await guest.wait_admitted()
    assert caught.value.why == "denied"
    assert caught.value.message == "The host did not let you into this meeting."
    await guest.wait_closed()
    await meeting.close()


async def test_admit_all_lets_everyone_waiting_in(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    guests = [
        await MeetingClient.connect(meeting.join_url, name=name)
        for name in ("Bob Smith", "Carol Jones", "Dan Brown")
    ]
    await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == 3)
    await meeting.host.admit_all()
    for guest in guests:
        await guest.wait_admitted()
        await guest.close()
    await meeting.close()


async def test_an_invite_bypasses_the_waiting_room_when_the_policy_says_invited(
    server: RunningServer,
) -> None:
    policy = {"entry": {"waiting_room": {"bypass": ["host", "cohost", "invited"]}}}
    meeting = await hosted_meeting(server.url, policy)
    invite = await meeting.api.create_invite(role="participant")
    guest = await MeetingClient.connect(invite.join_url, name="Bob Smith")
    assert guest.status == "admitted"
    stranger = await MeetingClient.connect(meeting.join_url, name="Eve Stone")
    assert stranger.status == "waiting"
    await meeting.api.revoke_invite(invite.invite_id)
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(invite.join_url, name="Bob Again")
    assert caught.value.reason == "join_failed"
    for client in (guest, stranger):
        await client.close()
    await meeting.close()


async def test_a_cohost_invite_carries_the_role_and_its_powers(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    invite = await meeting.api.create_invite(role="cohost")
    cohost = await MeetingClient.connect(invite.join_url, name="Carol Jones")
    assert (cohost.status, cohost.role) == ("admitted", "cohost")
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(cohost, guest)
    await guest.close()
    await cohost.close()
    await meeting.close()


async def test_wrong_and_missing_passwords_look_like_an_unknown_meeting(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {"entry": {"password": True}}, "correct horse")
    refusals = []
    for password in (None, "wrong"):
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Bob Smith", password=password)
        refusals.append((caught.value.reason, caught.value.message))
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(
            "no-such-meeting", server=server.url, name="Bob Smith", password="x"
        )
    refusals.append((caught.value.reason, caught.value.message))
    assert len(set(refusals)) == 1
    assert refusals[0][0] == "join_failed"
    guest = await MeetingClient.connect(
        meeting.join_url, name="Bob Smith", password="correct horse"
    )
    assert guest.status == "waiting"
    audit = await meeting.api.audit(event_type="join_requested")
    reasons = [entry["decision"]["reason"] for entry in audit]
    assert reasons.count("wrong_password") == 1
    assert "password_required" in reasons
    await guest.close()
    await meeting.close()


async def test_password_attempts_are_limited(tmp_path_factory: pytest.TempPathFactory) -> None:
    own = RunningServer(tmp_path_factory.mktemp("limits")).start()  # limits are per client
    try:
        meeting = await hosted_meeting(own.url, {"entry": {"password": True}}, "correct horse")
        for _ in range(5):
            with pytest.raises(JoinRefusedError):
                await MeetingClient.connect(meeting.join_url, name="Mallory Bad", password="guess")
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(
                meeting.join_url, name="Mallory Bad", password="correct horse"
            )
        assert caught.value.reason == "too_many_attempts"
        assert caught.value.retry_after
        assert caught.value.retry_after > 0
        await meeting.close()
    finally:
        own.stop()


async def test_a_locked_meeting_keeps_new_people_and_those_waiting_out(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    waiting = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == 1)
    await meeting.host.lock(True)
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    assert (caught.value.reason, caught.value.rule) == ("meeting_locked", "/entry/locked")
    assert waiting.participant_id is not None
    with pytest.raises(PolicyRefusedError) as refused:
        await meeting.host.admit(waiting.participant_id)
    assert refused.value.reason == "meeting_locked"
    await meeting.host.lock(False)
    await meeting.host.admit(waiting.participant_id)
    await waiting.wait_admitted()
    await waiting.close()
    await meeting.close()


@pytest.mark.parametrize(
    ("name", "reason", "rule"),
    [
        ("Bob", "name_too_short", "/entry/full_name/min_words"),
        ("Alice Ch\u0435n", "name_lookalike", "/entry/full_name/reject_lookalikes_of"),
        ("Admin Person", "name_blocked_word", "/entry/full_name/blocked_words"),
        ("Bob\u202eSmith", "name_invalid_characters", "/entry/full_name"),
    ],
)
async def test_a_refused_name_says_why_and_which_rule(
    server: RunningServer, name: str, reason: str, rule: str
) -> None:
    meeting = await hosted_meeting(server.url, {})
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(meeting.join_url, name=name)
    assert (caught.value.reason, caught.value.rule) == (reason, rule)
    assert caught.value.message.endswith(".")
    await meeting.close()


async def test_a_removed_guest_cannot_rejoin_when_rejoin_is_never(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {"removal": {"rejoin": "never"}})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(meeting.host, guest)
    assert guest.participant_id is not None
    await meeting.host.remove(guest.participant_id)
    removed = await guest.wait_for(Removed)
    assert removed.message.message == "The host removed you from the meeting."
    for attempt in ({"device_token": guest.device_token}, {}):  # same device; same name elsewhere
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Bob Smith", **attempt)
        assert caught.value.reason == "banned"
    newcomer = await MeetingClient.connect(meeting.join_url, name="Robert Jones")
    assert newcomer.status == "waiting", "a new identity goes through the waiting room"
    await newcomer.close()
    await meeting.close()


async def test_a_removed_guest_comes_back_only_through_the_waiting_room(
    server: RunningServer,
) -> None:
    policy = {
        "entry": {"waiting_room": {"bypass": ["host", "cohost", "invited"]}},
        "removal": {"rejoin": "via_waiting_room"},
    }
    meeting = await hosted_meeting(server.url, policy)
    invite = await meeting.api.create_invite()
    guest = await MeetingClient.connect(invite.join_url, name="Bob Smith")
    assert guest.status == "admitted"
    assert guest.participant_id is not None
    await meeting.host.remove(guest.participant_id)
    await guest.wait_closed()
    again = await MeetingClient.connect(
        invite.join_url, name="Bob Smith", device_token=guest.device_token
    )
    assert again.status == "waiting"
    await again.close()
    await meeting.close()


async def test_a_ban_holds_whatever_the_rejoin_rule(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {"removal": {"rejoin": "allowed"}})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(meeting.host, guest)
    assert guest.participant_id is not None
    await meeting.host.ban(guest.participant_id)
    await guest.wait_for(Removed)
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(
            meeting.join_url, name="Bob Smith", device_token=guest.device_token
        )
    assert caught.value.reason == "banned"
    await meeting.close()


async def test_a_participant_cannot_use_host_actions(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {"entry": {"waiting_room": {"enabled": False}}})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    other = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    assert other.participant_id is not None
    for action in (guest.remove(other.participant_id), guest.mute_all(), guest.lock(True)):
        with pytest.raises(PolicyRefusedError) as caught:
            await action
        assert caught.value.reason == "not_a_host"
    await other.wait_for(RosterChanged)
    assert other.status == "admitted"
    for client in (guest, other):
        await client.close()
    await meeting.close()


async def test_the_join_page_learns_the_entry_rules_and_nothing_else(
    server: RunningServer,
) -> None:
    board = json.loads((EXAMPLES / "board_meeting.json").read_text())
    meeting = await hosted_meeting(server.url, board, "correct horse")
    async with httpx.AsyncClient(base_url=server.url) as client:
        real = (await client.get(f"/api/meetings/{meeting.meeting_id}/entry")).json()
        unknown = await client.get("/api/meetings/no-such-meeting/entry")
        odd = await client.get("/api/meetings/%0Ax/entry")
    assert real == {
        "password": True,
        "waiting_room": True,
        "full_name": {"required": True, "min_words": 2},
        "camera": {"required": True},
    }
    assert "Quarterly" not in json.dumps(real), "never the meeting's name"
    # A wrong link is answered in the same shape, as a protected meeting would be.
    assert unknown.status_code == odd.status_code == 200
    assert unknown.json().keys() == real.keys()
    assert unknown.json()["password"] is True
    await meeting.close()
