"""The server on PostgreSQL, end to end: `meetwarden serve --database-url postgresql+asyncpg://`.

A real PostgreSQL server on loopback (support.postgres, shared with the
store's tests), a real server process on it, a meeting driven with the SDK;
then the process restarts and the meeting, its ban and its audit log are
still there, read back from PostgreSQL (no SQLite file is ever written).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.meetings import admit, hosted_meeting
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import RunningServer

from meetwarden.client_sdk import HostAPI, JoinRefusedError, MeetingClient, Removed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_meeting_on_postgresql_keeps_its_ban_and_audit_log_across_a_restart(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    database = url.rsplit("/", 1)[1]
    server = RunningServer(tmp_path / "data", database_url=url).start()
    try:
        policy = {"name": "On PostgreSQL", "entry": {"password": True}}
        meeting = await hosted_meeting(server.url, policy, "correct horse")
        guest = await MeetingClient.connect(
            meeting.join_url, name="Bob Smith", password="correct horse"
        )
        assert guest.status == "waiting"
        await admit(meeting.host, guest)
        assert guest.participant_id is not None
        await meeting.host.remove(guest.participant_id)
        removed = await guest.wait_for(Removed)
        assert removed.message.why == "removed"
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(
                meeting.join_url,
                name="Bob Smith",
                password="correct horse",
                device_token=guest.device_token,
            )
        assert caught.value.reason == "banned", "removal.rejoin defaults to never"
        before = await meeting.api.audit()
        await meeting.close()

        server.restart()

        assert not list((tmp_path / "data").glob("*.db")), "nothing went to SQLite"
        api = HostAPI(server.url, meeting.meeting_id, meeting.host_token)
        info = await api.meeting()
        assert (info["name"], info["ended"], info["policy_revision"]) == ("On PostgreSQL", False, 1)
        after = await api.audit()
        assert [e["decision_id"] for e in after[: len(before)]] == [
            e["decision_id"] for e in before
        ], "the audit log is intact, in order"
        reasons = [e["decision"]["reason"] for e in after]
        assert {"admitted_by_host", "removed", "banned"} <= set(reasons)
        for rejoin in (
            {"name": "Bob Smith", "device_token": guest.device_token},  # the same device
            {"name": "Bob Smith"},  # a new device, the same name
        ):
            with pytest.raises(JoinRefusedError) as caught:
                await MeetingClient.connect(meeting.join_url, password="correct horse", **rejoin)
            assert caught.value.reason == "banned", f"the ban outlived the process: {rejoin}"
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Carol Jones", password="wrong one")
        assert caught.value.reason == "join_failed", "the password hash is read from PostgreSQL"
        newcomer = await MeetingClient.connect(
            meeting.join_url, name="Carol Jones", password="correct horse"
        )
        assert newcomer.status == "waiting", "the policy in force came back from PostgreSQL"
        await newcomer.close()
        await api.close()

        rows = postgres_server.sql(
            "SELECT (SELECT count(*) FROM meetings), "
            "(SELECT count(*) FROM meeting_identities WHERE kind = 'ban'), "
            "(SELECT count(*) FROM audit_entries)",
            database=database,
        )
        meetings, bans, entries = (int(value) for value in rows.strip().split("|"))
        assert (meetings, entries >= len(after)) == (1, True)
        assert bans >= 2, "the device and the name are both banned"
    finally:
        server.stop()
    assert not [line for line in server.log if "Traceback" in line], "".join(server.log)
