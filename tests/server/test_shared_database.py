"""Nodes that share one PostgreSQL share the key that signs tokens.

A host link made on one node opens the meeting's host API on another: the key
is in the database, made once by the first node (from its own ``secret.key``,
so links it handed out before keep working).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import RunningServer

from meetwarden.client_sdk import HostAPI

pytestmark = pytest.mark.anyio


async def test_a_host_link_made_on_one_node_opens_on_another(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_database()
    first = RunningServer(tmp_path / "first", database_url=url).start()
    # The second node has its own data directory and so its own secret.key file.
    second = RunningServer(tmp_path / "second", database_url=url).start()
    try:
        created = await HostAPI.create_meeting(first.url, {"name": "Board"}, api_key=first.api_key)
        headers = {"Authorization": f"Bearer {created.host_token}"}
        async with httpx.AsyncClient() as http:
            there = await http.get(
                f"{second.url}/api/meetings/{created.meeting_id}", headers=headers
            )
            assert there.status_code == 200
            assert there.json()["name"] == "Board"
            forged = await http.get(
                f"{second.url}/api/meetings/{created.meeting_id}",
                headers={"Authorization": f"Bearer {created.host_token[:-4]}AAAA"},
            )
            assert forged.status_code == 404
        keys = {(tmp_path / name / "secret.key").read_text() for name in ("first", "second")}
        assert len(keys) == 2  # the files differ: what both use is the database's
    finally:
        first.stop()
        second.stop()
