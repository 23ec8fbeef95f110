"""The audit log reads in the host's language; entries from before it kept params read as stored.

A real server on SQLite and on PostgreSQL. A meeting's decisions are read with
``Accept-Language: zh-CN`` (Chinese sentences, the same reasons, rules and params)
and exported (English, as stored, with params for ``policy simulate``). Then the
database is taken back to the schema before ``params`` (migration 0004), an entry is
written the way that version wrote it, and the restarted server (migrating again)
reads it, and the entries whose params the downgrade dropped, in English as stored,
beside the Chinese of what it decided since.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from support.meetings import admit, hosted_meeting
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import RunningServer

from meetwarden.client_sdk import MeetingClient
from meetwarden.server.store.database import create_engine, parse_url
from meetwarden.server.store.migrating import alembic_config

pytestmark = pytest.mark.anyio

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
OLD_MESSAGE = "Carol Jones was admitted."


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str | None, str]:
    """(the server's --database-url, the URL this test opens the same database with)."""
    if request.param == "sqlite":
        return None, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'meetwarden.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    return url, url


async def _audit(server: RunningServer, meeting_id: str, token: str, **headers: str) -> Any:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(
            f"/api/meetings/{meeting_id}/audit",
            headers={"Authorization": f"Bearer {token}", **headers},
        )
    assert response.status_code == 200
    return response.json()["entries"]


async def _export(server: RunningServer, meeting_id: str, token: str) -> list[Any]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(
            f"/api/meetings/{meeting_id}/audit.jsonl",
            headers={"Authorization": f"Bearer {token}", **CHINESE},
        )
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


async def _write_an_entry_as_version_0004_did(url: str, meeting_id: str) -> None:
    """Back to the schema before params, and one entry written as that version wrote it."""
    engine = create_engine(parse_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0004"))
        async with engine.begin() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in sync.dialect.get_columns(sync, "audit_entries")}
            )
            assert "params" not in columns
            await connection.execute(
                text(
                    "INSERT INTO audit_entries (meeting_id, at, decision_id, policy_revision, "
                    "event_type, event, allowed, reason, rule, message, actor, participant, "
                    "effects) VALUES (:meeting, 4102444800.0, 'old-decision', 1, 'admit', "
                    '\'{"type":"admit","participant":"p-carol"}\', true, '
                    "'admitted_by_host', '/entry/waiting_room', :message, NULL, 'p-carol', '[]')"
                ),
                {"meeting": meeting_id, "message": OLD_MESSAGE},
            )
    finally:
        await engine.dispose()


async def test_the_audit_log_reads_in_the_hosts_language_and_old_entries_as_stored(
    database: tuple[str | None, str], tmp_path: Path
) -> None:
    server_url, url = database
    server = RunningServer(tmp_path / "data", database_url=server_url).start()
    try:
        meeting = await hosted_meeting(server.url, {})
        guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
        await admit(meeting.host, guest)
        await guest.close()
        await meeting.host.close()
        english = await _audit(server, meeting.meeting_id, meeting.host_token)
        chinese = await _audit(server, meeting.meeting_id, meeting.host_token, **CHINESE)

        def decisions(entries: list[Any]) -> list[tuple[str, str, Any]]:
            return [
                (e["decision"]["reason"], e["decision"]["rule"], e["decision"]["params"])
                for e in entries
            ]

        assert decisions(chinese) == decisions(english)
        by_reason = {e["decision"]["reason"]: e["decision"] for e in chinese}
        admitted = by_reason["admitted_by_host"]
        assert admitted["params"] == {"name": "Bob Smith"}
        assert admitted["message"] == "已让 Bob Smith 进入会议。"
        assert by_reason["waiting_for_host"]["message"] == "请稍候：主持人很快会让你进入。"
        english_admitted = next(e for e in english if e["decision"]["reason"] == "admitted_by_host")
        assert english_admitted["decision"]["message"] == "Bob Smith was admitted."
        # The export is the record as stored: English, with the params and the reason.
        exported = await _export(server, meeting.meeting_id, meeting.host_token)
        assert [line["decision"]["message"] for line in exported] == [
            e["decision"]["message"] for e in english
        ]
        assert [line["decision"]["params"] for line in exported] == [
            e["decision"]["params"] for e in english
        ]

        server.stop()
        await _write_an_entry_as_version_0004_did(url, meeting.meeting_id)
        server.start()  # migrates to the head again
        host = await MeetingClient.connect(
            meeting.join_url, name="Alice Chen", host_token=meeting.host_token
        )
        await host.close()

        after = await _audit(server, meeting.meeting_id, meeting.host_token, **CHINESE)
        stored_before = len(english) + 1
        # Every entry from before params (the downgrade took theirs) reads as stored ...
        assert [e["decision"]["message"] for e in after[:stored_before]] == [
            *(e["decision"]["message"] for e in english),
            OLD_MESSAGE,
        ]
        assert {e["decision"]["params"] is None for e in after[:stored_before]} == {True}
        assert after[stored_before - 1]["decision_id"] == "old-decision"
        # ... and what was decided since, in the host's language.
        since = [e["decision"] for e in after[stored_before:]]
        assert (since[0]["reason"], since[0]["message"]) == ("host_joined", "你已进入会议。")
        assert all(decision["params"] is not None for decision in since)
    finally:
        server.stop()
