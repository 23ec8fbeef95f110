"""Meetings, bans, policies and the audit log survive a server restart."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from typing import Any

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    HostAPI,
    JoinRefusedError,
    MeetingClient,
    PolicyRefusedError,
    Removed,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"]
)
async def test_meetings_bans_and_the_audit_log_survive_a_restart(
    tmp_path_factory: pytest.TempPathFactory, stop_signal: int
) -> None:
    server = RunningServer(tmp_path_factory.mktemp("restart")).start()
    try:
        policy = {"name": "Kept", "entry": {"password": True}, "removal": {"rejoin": "never"}}
        meeting = await hosted_meeting(server.url, policy, "correct horse")
        guest = await MeetingClient.connect(
            meeting.join_url, name="Bob Smith", password="correct horse"
        )
        await admit(meeting.host, guest)
        assert guest.participant_id is not None
        await meeting.host.lock(True)
        await meeting.host.remove(guest.participant_id)
        await guest.wait_for(Removed)
        await meeting.host.update_policy({**policy, "chat": {"allowed": "host_only"}})
        before = await meeting.api.audit()
        await meeting.host.close()
        await meeting.api.close()

        server.stop(stop_signal)
        server.start()

        api = HostAPI(server.url, meeting.meeting_id, meeting.host_token)
        info = await api.meeting()
        assert (info["name"], info["locked"], info["policy_revision"]) == ("Kept", True, 2)
        assert [v["revision"] for v in await api.policy_versions()] == [1, 2]
        after = await api.audit()
        assert [e["decision_id"] for e in after[: len(before)]] == [
            e["decision_id"] for e in before
        ]
        host = await MeetingClient.connect(
            meeting.join_url, name="Alice Chen", host_token=meeting.host_token
        )
        assert host.status == "admitted", "the host token still opens the meeting"
        await host.lock(False)
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(
                meeting.join_url,
                name="Bob Smith",
                password="correct horse",
                device_token=guest.device_token,
            )
        assert caught.value.reason == "banned", "the ban outlived the process"
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Carol Jones", password="wrong one")
        assert caught.value.reason == "join_failed", "the password hash outlived it too"
        await host.close()
        await api.close()
    finally:
        server.stop()


def _saved_places(server: RunningServer, meeting_id: str) -> dict[str, Any] | None:
    """The places the server stored for a meeting (read from its SQLite file)."""
    database = sqlite3.connect(server.data_dir / "meetwarden.db", timeout=5)
    try:
        row = database.execute(
            "SELECT document FROM room_states WHERE meeting_id = ?", (meeting_id,)
        ).fetchone()
    finally:
        database.close()
    return json.loads(row[0]) if row else None


async def _until_saved(server: RunningServer, meeting_id: str, holds: Any) -> None:
    """Waits until the stored places satisfy ``holds`` (a killed server keeps only those)."""
    for _ in range(400):  # 20 s
        if holds(await asyncio.to_thread(_saved_places, server, meeting_id)):
            return
        await asyncio.sleep(0.05)  # polling the database file: no event says "stored"
    raise AssertionError("the places were not stored within 20 s")


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"]
)
async def test_a_restart_in_the_middle_of_a_meeting_resets_nobody(
    tmp_path_factory: pytest.TempPathFactory, stop_signal: int
) -> None:
    """People waiting, a lock, a host mute, a live grant and a ban all outlive the process;
    everyone reconnects to the place the meeting kept, gated as before."""
    server = RunningServer(tmp_path_factory.mktemp("restart-mid")).start()
    try:
        policy = {
            "audio": {"mute_on_entry": False, "unmute": "host_only"},
            "screen_share": {"allowed": "with_grant"},
            "entry": {"password": True, "reconnect_seconds": 300},
        }
        meeting = await hosted_meeting(server.url, policy, "correct horse")
        muted = await MeetingClient.connect(
            meeting.join_url, name="Bob Smith", password="correct horse"
        )
        await admit(meeting.host, muted)
        granted = await MeetingClient.connect(
            meeting.join_url, name="Carol Jones", password="correct horse"
        )
        await admit(meeting.host, granted)
        banned = await MeetingClient.connect(
            meeting.join_url, name="Dave Brown", password="correct horse"
        )
        await admit(meeting.host, banned)
        waiting = await MeetingClient.connect(
            meeting.join_url, name="Erin Green", password="correct horse"
        )
        assert waiting.status == "waiting"
        ids = {c.participant_id for c in (muted, granted, banned, waiting)}
        assert None not in ids
        await meeting.host.mute(muted.participant_id)  # type: ignore[arg-type]
        await meeting.host.grant(granted.participant_id, "screen", minutes=30)  # type: ignore[arg-type]
        await meeting.host.ban(banned.participant_id)  # type: ignore[arg-type]
        await meeting.host.lock(True)

        def all_there(saved: dict[str, Any] | None) -> bool:
            people = {p["id"]: p for p in (saved or {}).get("people", [])}
            bob, carol = people.get(muted.participant_id), people.get(granted.participant_id)
            return (
                bob is not None
                and bob["muted"]
                and carol is not None
                and bool(carol["grants"])
                and banned.participant_id not in people
                and waiting.participant_id in people
            )

        await _until_saved(server, meeting.meeting_id, all_there)
        await meeting.api.audit()  # the lock and the ban are stored (audit reads flush them)
        server.stop(stop_signal)
        server.start()

        for client in (muted, granted, waiting):
            await client.reconnect()
        assert (muted.status, muted.you.muted if muted.you else None) == ("admitted", True)
        refused = await _refused(muted.request_unmute())
        assert refused == "unmute_host_only", "a host mute is not reset by a restart"
        assert granted.you is not None
        assert [g.kind for g in granted.you.grants] == ["screen"], "the grant outlived it"
        assert waiting.status == "waiting", "the waiting room place is kept, not skipped"
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(
                meeting.join_url,
                name="Dave Brown",
                password="correct horse",
                device_token=banned.device_token,
            )
        assert caught.value.reason == "banned"
        host = await MeetingClient.connect(
            meeting.join_url, name="Alice Chen", host_token=meeting.host_token
        )
        assert host.meeting is not None
        assert host.meeting.locked, "the lock outlived it"
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Fay White", password="wrong one")
        assert caught.value.reason == "join_failed"
        for client in (muted, granted, waiting, host):
            await client.close()
        await meeting.api.close()
    finally:
        server.stop()


async def _refused(request: Any) -> str:
    try:
        await request
    except PolicyRefusedError as refusal:
        return refusal.reason
    return "allowed"
