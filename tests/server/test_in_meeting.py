"""Inside a meeting, end to end: unmute modes, grants that expire, policy updates, host drop."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    ApiError,
    ChatReceived,
    GrantReceived,
    HandRaised,
    JoinRefusedError,
    MeetingClient,
    NoticeReceived,
    PolicyRefusedError,
    Removed,
    RosterChanged,
    SelfChanged,
    Unmuted,
    WaitingListChanged,
)

pytestmark = pytest.mark.anyio


async def _admitted_guest(
    server: RunningServer, policy: dict[str, Any]
) -> tuple[Any, MeetingClient]:
    meeting = await hosted_meeting(server.url, policy)
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(meeting.host, guest)
    return meeting, guest


async def test_self_unmute_mode_lets_a_participant_unmute(server: RunningServer) -> None:
    meeting, guest = await _admitted_guest(server, {"audio": {"unmute": "self"}})
    result = await guest.request_unmute()
    assert result.reason == "unmuted"
    event = await guest.wait_for(Unmuted)
    assert not event.message.you.muted
    await guest.close()
    await meeting.close()


async def test_after_raised_hand_mode_needs_the_host_to_accept_the_hand(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {"audio": {"unmute": "after_raised_hand"}})
    with pytest.raises(PolicyRefusedError) as caught:
        await guest.request_unmute()
    assert (caught.value.reason, caught.value.rule) == ("unmute_needs_raised_hand", "/audio/unmute")
    assert caught.value.message == "Raise your hand; the host will let you speak."
    await guest.raise_hand()
    seen = await meeting.host.wait_for(HandRaised)
    assert seen.message.about == guest.participant_id
    await meeting.host.ask_to_unmute(seen.message.about)
    notice = await guest.wait_for(NoticeReceived, lambda e: e.message.topic == "asked_to_unmute")
    assert notice.message.text == "The host asks you to unmute."
    await guest.request_unmute()
    await guest.wait_for(Unmuted)
    await meeting.host.mute(seen.message.about)
    with pytest.raises(PolicyRefusedError):
        await guest.request_unmute()  # a host mute takes the permission back
    await guest.close()
    await meeting.close()


async def test_host_only_mode_ignores_raised_hands_until_the_host_allows(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {"audio": {"unmute": "host_only"}})
    await guest.raise_hand()
    with pytest.raises(PolicyRefusedError) as caught:
        await guest.request_unmute()
    assert caught.value.reason == "unmute_host_only"
    assert guest.participant_id is not None
    await meeting.host.ask_to_unmute(guest.participant_id)
    assert (await guest.request_unmute()).reason == "unmuted"
    await guest.close()
    await meeting.close()


async def test_a_grant_expires_on_time_and_the_participant_is_told(server: RunningServer) -> None:
    meeting, guest = await _admitted_guest(
        server,
        {"screen_share": {"allowed": "with_grant"}, "file_share": {"allowed": "with_grant"}},
    )
    assert guest.participant_id is not None
    with pytest.raises(PolicyRefusedError) as caught:
        await meeting.host.revoke(guest.participant_id)
    assert caught.value.reason == "no_grant"
    assert (await guest.request_share("screen")).reason == "share_request_sent"
    started = time.monotonic()
    await meeting.host.grant(guest.participant_id, "screen", seconds=5)
    received = await guest.wait_for(GrantReceived)
    assert "5 seconds" in received.message.text
    assert received.message.kind == "screen"
    state = await guest.wait_for(SelfChanged, lambda e: bool(e.message.you.grants))
    assert state.message.you.grants[0].kind == "screen"
    expired = await guest.wait_for(
        NoticeReceived, lambda e: e.message.topic == "grant_expired", timeout=20
    )
    assert time.monotonic() - started >= 4.5
    assert expired.message.text == "Your time to share your screen is up."
    assert expired.message.kind == "screen"
    audit = await meeting.api.audit(reason="grant_expired")
    assert [entry["actor"] for entry in audit] == ["timer"]
    # Notices about grants say which kind of sharing they concern.
    await meeting.host.grant(guest.participant_id, "file", minutes=5)
    assert (await guest.wait_for(GrantReceived)).message.kind == "file"
    await meeting.host.revoke(guest.participant_id, "file")
    revoked = await guest.wait_for(NoticeReceived, lambda e: e.message.topic == "grant_revoked")
    assert revoked.message.kind == "file"
    await guest.close()
    await meeting.close()


async def test_a_password_added_mid_meeting_holds_for_those_waiting(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    waiting = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == 1)
    with pytest.raises(PolicyRefusedError) as caught:
        await meeting.host.update_policy({"entry": {"password": True, "max_participants": 1}})
    assert caught.value.reason == "policy_invalid"
    assert caught.value.errors[0]["pointer"] == "/entry/max_participants"
    await meeting.host.update_policy({"entry": {"password": True}})
    out = await waiting.wait_for(Removed)
    assert out.message.why == "policy"
    policy = await meeting.api.policy()
    assert policy["revision"] == 2
    assert [v["revision"] for v in await meeting.api.policy_versions()] == [1, 2]
    await meeting.close()


async def test_a_bad_policy_over_rest_leaves_the_old_one_in_force(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {"name": "Kept"})
    with pytest.raises(ApiError) as caught:
        await meeting.api.replace_policy({"entry": {"locked": "off"}})
    error = caught.value
    assert error.status == 422
    assert error.errors == [
        {
            "pointer": "/entry/locked",
            "code": "wrong_type",
            "message": 'expected true or false, got the string "off"',
            # Which sentence, and what it needs: for a client that writes its own.
            "key": "bool_type",
            "params": {"input_type": "string", "input": '"off"'},
        }
    ]
    assert (await meeting.api.policy())["policy"] == {"name": "Kept"}
    await meeting.close()


async def test_chat_reaches_everyone_in_the_meeting_but_not_those_waiting(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {})
    waiting = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    await guest.chat("hello <b>everyone</b>")
    received = await meeting.host.wait_for(ChatReceived)
    assert (received.message.sender_name, received.message.text) == (
        "Bob Smith",
        "hello <b>everyone</b>",
    )
    with pytest.raises(PolicyRefusedError) as caught:
        await waiting.chat("let me in")
    assert caught.value.reason == "not_admitted"
    for client in (guest, waiting):
        await client.close()
    await meeting.close()


async def test_the_host_drops_and_returns_without_waiting_and_the_meeting_stays_gated(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {})
    await meeting.host.close()  # the host's connection drops
    late = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    assert late.status == "waiting", "without a host nobody is let in"
    assert guest.you is not None
    assert guest.you.role == "participant", "nobody is promoted"
    host = await MeetingClient.connect(
        meeting.join_url, name="Alice Chen", host_token=meeting.host_token
    )
    assert host.status == "admitted"
    assert host.role == "host"
    await admit(host, late)
    for client in (guest, late, host):
        await client.close()
    await meeting.api.close()


async def test_a_cohost_carries_on_when_the_host_drops(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    cohost = await MeetingClient.connect(
        (await meeting.api.create_invite(role="cohost")).join_url, name="Carol Jones"
    )
    await meeting.host.close()
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(cohost, guest)
    for client in (guest, cohost):
        await client.close()
    await meeting.api.close()


async def test_a_dropped_participant_resumes_without_waiting_again(server: RunningServer) -> None:
    meeting, guest = await _admitted_guest(server, {})
    await guest.reconnect()
    assert guest.status == "admitted"
    await guest.close()
    await meeting.close()


async def test_ending_the_meeting_tells_everyone_and_closes_it(server: RunningServer) -> None:
    meeting, guest = await _admitted_guest(server, {})
    await meeting.host.end_meeting()
    await guest.wait_closed()
    assert guest.dismissal is not None
    assert guest.dismissal.why == "ended"
    with pytest.raises(JoinRefusedError) as caught:
        await MeetingClient.connect(meeting.join_url, name="Late Comer")
    assert caught.value.reason == "join_failed"
    await meeting.close()


async def test_someone_who_left_on_purpose_waits_again_to_come_back(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {})
    token, device = guest.resume_token, guest.device_token
    await guest.leave()
    again = await MeetingClient.connect(
        meeting.join_url, name="Bob Smith", resume_token=token, device_token=device
    )
    assert again.status == "waiting", "a goodbye is not a dropped connection"
    await again.close()
    await meeting.close()


async def _simulate(cli: Path, policy: Path, events: Path) -> subprocess.CompletedProcess[str]:
    args = [cli, "policy", "simulate", policy, events]
    return await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, timeout=60, check=False
    )


async def test_an_audit_export_replays_with_policy_simulate_to_the_same_decisions(
    server: RunningServer, tmp_path: Path
) -> None:
    policy = {"audio": {"unmute": "after_raised_hand"}, "screen_share": {"allowed": "with_grant"}}
    meeting, guest = await _admitted_guest(server, policy)
    assert guest.participant_id is not None
    with pytest.raises(PolicyRefusedError):
        await guest.request_unmute()
    await guest.raise_hand()
    await meeting.host.ask_to_unmute(guest.participant_id)
    await guest.request_unmute()
    await meeting.host.grant(guest.participant_id, "screen", minutes=5)
    await meeting.host.update_policy(policy)  # recorded as the host wrote it, replayed as such
    await meeting.host.remove(guest.participant_id)
    export = await meeting.api.export_audit()
    assert len(export.splitlines()) >= 8
    (tmp_path / "audit.jsonl").write_text(export)
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    cli = Path(sys.executable).with_name("meetwarden")
    replay = await _simulate(cli, tmp_path / "policy.json", tmp_path / "audit.jsonl")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "unmute_needs_raised_hand" in replay.stdout
    assert "recorded then" not in replay.stdout
    stricter = {**policy, "audio": {"unmute": "host_only"}}
    (tmp_path / "stricter.json").write_text(json.dumps(stricter))
    what_if = await _simulate(cli, tmp_path / "stricter.json", tmp_path / "audit.jsonl")
    assert what_if.returncode == 1, "a stricter policy decides the same meeting differently"
    await meeting.close()


async def test_a_demoted_cohost_does_not_get_the_role_back_by_joining_again(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    invite = await meeting.api.create_invite(role="cohost")
    carol = await MeetingClient.connect(invite.join_url, name="Carol Jones")
    assert carol.role == "cohost"
    assert carol.participant_id is not None
    await meeting.host.set_role(carol.participant_id, "participant")
    await carol.leave()
    with pytest.raises(JoinRefusedError) as refused:
        await MeetingClient.connect(invite.join_url, name="Carol Jones")
    assert refused.value.reason == "join_failed", "the invite that made her co-host is withdrawn"
    plain = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    assert (plain.status, plain.role) == ("waiting", "participant")
    await plain.close()
    await meeting.close()


async def test_after_a_long_absence_the_place_is_given_up_and_the_policy_applies_again(
    server: RunningServer,
) -> None:
    meeting, guest = await _admitted_guest(server, {"entry": {"reconnect_seconds": 1}})
    gone = guest.participant_id
    await guest.close()

    def away(event: RosterChanged) -> bool:
        return any(p.id == gone and not p.connected for p in event.roster)

    async def next_roster() -> RosterChanged:  # the host's rosters, in the order received
        return await meeting.host.wait_for(RosterChanged, timeout=20)

    while not away(await next_roster()):  # the place is kept...
        pass
    while any(p.id == gone for p in (await next_roster()).roster):
        pass  # ...for a second, then given up
    await guest.reconnect()
    assert guest.status == "waiting", "after reconnect_seconds the token resumes nothing"
    assert guest.participant_id != gone
    await guest.close()
    await meeting.close()
