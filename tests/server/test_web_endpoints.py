"""The web client's JSON endpoints (server/web.py), against a real server process."""

from __future__ import annotations

import httpx
import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import MeetingClient

pytestmark = pytest.mark.anyio


async def test_the_examples_are_offered_to_start_from(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        examples = (await client.get("/api/policies/examples")).json()["examples"]
    by_id = {example["id"]: example for example in examples}
    assert set(by_id) == {"board_meeting", "classroom", "standup", "webinar"}
    assert by_id["board_meeting"]["name"] == "Quarterly board meeting"
    assert by_id["board_meeting"]["policy"]["entry"]["password"] is True


async def test_the_schema_describes_every_section(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        schema = (await client.get("/api/policies/schema")).json()
    assert {"entry", "audio", "screen_share", "file_share", "chat", "removal"} <= set(
        schema["properties"]
    )


async def test_a_valid_policy_is_explained_rule_by_rule(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/policies/explain", content=b'{"entry": {"password": true}}'
        )
    assert response.status_code == 200
    rules = {rule["rule"]: rule["text"] for rule in response.json()["rules"]}
    assert rules["/entry/password"].startswith("A password is needed to join")
    assert "/audio/unmute" in rules


@pytest.mark.parametrize(
    ("body", "pointer", "code"),
    [
        (b'{"entry": {"max_participants": 1}}', "/entry/max_participants", "out_of_range"),
        (b'{"entry": {"locked": "off"}}', "/entry/locked", "wrong_type"),
        (b'{"chat": {"allowed": "everyone"}, "chat": {}}', "/chat", "duplicate_key"),
        (b'{"name": ', "", "not_json"),
    ],
)
async def test_an_invalid_policy_gets_each_error_at_its_pointer(
    server: RunningServer, body: bytes, pointer: str, code: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/policies/explain", content=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["reason"] == "policy_invalid"
    assert (problem["errors"][0]["pointer"], problem["errors"][0]["code"]) == (pointer, code)


async def test_an_admitted_participant_reads_what_the_policy_lets_them_do(
    server: RunningServer,
) -> None:
    policy = {"screen_share": {"allowed": "with_grant", "surfaces": ["window", "browser"]}}
    meeting = await hosted_meeting(server.url, policy)
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(meeting.host, guest)
    url = f"/api/meetings/{meeting.meeting_id}/participant-view"
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(url, headers={"Authorization": f"Bearer {guest.resume_token}"})
        assert response.status_code == 200
        view = response.json()
        assert view["screen_share"]["allowed"] == "with_grant"
        assert view["screen_share"]["surfaces"] == ["window", "browser"]
        assert view["audio"]["unmute"] == "after_raised_hand"
        assert view["entry"] == {"identity": "anyone"}  # the link is worth passing on
        assert view["chat"] == {"allowed": "everyone", "private": "hosts"}
        assert "/chat/private" in {rule["rule"] for rule in view["rules"]}
        assert view["policy_revision"] == 1
        assert isinstance(view["server_time"], float)
        # Only the rules that shape a participant's controls; not who may join, nor how.
        assert all(
            not rule["rule"].startswith(("/entry/password", "/entry/full_name"))
            for rule in view["rules"]
        )
        # Anyone else gets the same 404 as for a meeting that does not exist.
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": f"Bearer {meeting.host_token}"},
        ):
            assert (await client.get(url, headers=headers)).status_code == 404
        assert guest.participant_id is not None
        await meeting.host.remove(guest.participant_id)
        await guest.wait_closed()
        gone = await client.get(url, headers={"Authorization": f"Bearer {guest.resume_token}"})
        assert gone.status_code == 404
    await meeting.close()


async def test_a_meeting_id_with_a_trailing_newline_is_not_found(server: RunningServer) -> None:
    """``$`` matches before a final newline: the id's shape is checked with fullmatch."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/m/abc_DEF-123")).status_code == 200
        for path in ("/m/x%0A", "/m/abc_DEF-123%0A", "/m/x%0D%0A", "/m/%0A"):
            response = await client.get(path)
            assert response.status_code == 404, path
