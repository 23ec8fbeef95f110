"""Meetings, bans, policies and the audit log survive a server restart."""

from __future__ import annotations

import signal

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import HostAPI, JoinRefusedError, MeetingClient, Removed

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
