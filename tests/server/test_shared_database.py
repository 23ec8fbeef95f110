"""Nodes that share one PostgreSQL share the key that signs tokens, and count sign-in
guesses together.

A host link made on one node opens the meeting's host API on another: the key
is in the database, made once by the first node (from its own ``secret.key``,
so links it handed out before keep working). Guesses at a host account's password
spend one budget whichever node answers them (in Redis).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from support.cluster import free_port, node_arguments, running_cluster
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.redis import start_redis, stop_redis
from support.server import SETUP_LINK, RunningServer
from support.sources import join_from

from meetwarden.client_sdk import HostAPI
from meetwarden.server.runtime.registry import API_LOOKUP_LIMIT_ENV

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery staple"


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


@pytest.mark.redis
async def test_each_node_of_a_new_cluster_prints_a_first_account_link_that_works(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Nodes started one after the other each print a link: the first printed still
    sets up the first account (a second node's start does not void it), and once an
    account exists no printed link makes another."""
    url = postgres_server.new_database()
    redis = start_redis()
    nodes: list[RunningServer] = []
    try:
        for name in ("north", "south"):
            port = free_port()
            node = RunningServer(
                tmp_path / name,
                database_url=url,
                port=port,
                provision=False,
                extra_args=node_arguments(name, port, redis.url),
            ).start()  # one after the other: north's link is printed first
            nodes.append(node)
        north, south = nodes
        links = [(await node.printed(SETUP_LINK)).group(2) for node in nodes]
        assert links[0] != links[1]
        async with httpx.AsyncClient() as http:
            body = {"token": links[0], "username": "ada", "password": PASSWORD}
            made = await http.post(
                f"{south.url}/api/accounts", json=body, headers={"Origin": south.url}
            )
            assert made.status_code == 201, made.text
            again = await http.post(
                f"{north.url}/api/accounts",
                json={**body, "token": links[1], "username": "mallory"},
                headers={"Origin": north.url},
            )
            assert (again.status_code, again.json()["reason"]) == (403, "setup_link_invalid")
    finally:
        for node in nodes:
            node.stop()
        stop_redis(redis)


@pytest.mark.redis
async def test_sign_in_guesses_spread_over_the_nodes_spend_one_budget(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Ten wrong passwords from one address, five at each node, spend the address's
    budget (10 in 15 minutes): the right one is then refused at either node."""
    with running_cluster(tmp_path, postgres_server, account=("ada", PASSWORD)) as cluster:
        async with httpx.AsyncClient() as http:
            for number in range(10):
                node = cluster.nodes[number % 2]
                wrong = {"username": "ada", "password": f"not the password {number}"}
                answer = await http.post(
                    f"{node.url}/api/session", json=wrong, headers={"Origin": node.url}
                )
                assert answer.status_code == 401, answer.text
            for node in cluster.nodes:
                right = {"username": "ada", "password": PASSWORD}
                refused = await http.post(
                    f"{node.url}/api/session", json=right, headers={"Origin": node.url}
                )
                assert refused.status_code == 429, refused.text
                assert refused.json()["reason"] == "too_many_attempts"
                assert 0 < int(refused.headers["Retry-After"]) <= 900


@pytest.mark.redis
async def test_join_guesses_at_meetings_on_both_nodes_spend_one_budget(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Wrong meeting passwords from one address at meetings that different nodes hold
    spend the address's one budget (5 in 5 minutes, server/runtime/attempts.py), counted
    in Redis: the right password is then refused at both. Another address gets in."""
    with running_cluster(tmp_path, postgres_server) as cluster:
        on: dict[str, tuple[RunningServer, str]] = {}
        for _ in range(30):
            first = cluster.nodes[0]
            created = await HostAPI.create_meeting(
                first.url, {"entry": {"password": True}}, api_key=first.api_key, password=PASSWORD
            )
            async with HostAPI(first.url, created.meeting_id, created.host_token) as api:
                await api.meeting()  # places it
            holder = await cluster.holder_of(created.meeting_id)
            on.setdefault(holder.url, (holder, created.meeting_id))
            if len(on) == 2:
                break
        assert len(on) == 2, "thirty meetings, all on one node: placement is not spread"
        (north, north_meeting), (south, south_meeting) = on.values()
        guesser = "127.0.0.77"
        for number in range(5):
            node, meeting_id = (north, north_meeting) if number % 2 else (south, south_meeting)
            wrong = await join_from(node.ws_url, meeting_id, guesser, password=f"guess {number}")
            assert wrong.reason == "join_failed", wrong.message
        for node, meeting_id in on.values():
            right = await join_from(node.ws_url, meeting_id, guesser, password=PASSWORD)
            assert right.reason == "too_many_attempts", f"{node.url}: the budget is spent"
        other = await join_from(south.ws_url, south_meeting, "127.0.0.78", password=PASSWORD)
        assert other.type == "welcome", other.message
        await other.socket.close()


@pytest.mark.redis
async def test_a_client_scanning_meeting_ids_at_both_nodes_meets_one_budget(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Failed host-API lookups per client (here 6 in 10 minutes) are counted in Redis: a
    scan spread over both nodes gets 6 answers, and one more from each node that learns
    of the spent budget at its next failure; then both refuse. On their own budgets, the
    nodes would answer 12."""
    limit = {API_LOOKUP_LIMIT_ENV: "6"}
    with running_cluster(tmp_path, postgres_server, env=limit) as cluster:
        async with httpx.AsyncClient() as http:
            statuses = [
                (
                    await http.get(
                        f"{cluster.nodes[n % 2].url}/api/meetings/{secrets.token_urlsafe(16)}"
                    )
                ).status_code
                for n in range(12)
            ]
    assert statuses == [404] * 8 + [429] * 4
