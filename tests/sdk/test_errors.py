"""Every failure a bot author meets is a MeetwardenError that says what was wrong and what
to do, with its reason code and parameters as data: against a real server, a real closed
port and a real listener that never answers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer, api_key_for

from meetwarden import protocol as wire
from meetwarden.client_sdk import (
    ApiError,
    ChatReceived,
    ConnectionClosedError,
    HostAPI,
    InvalidArgumentError,
    JoinRefusedError,
    MeetingClient,
    MeetingStatus,
    MeetwardenError,
    MeetwardenTimeoutError,
    PolicyRefusedError,
    ServerUnreachableError,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def closed_port() -> Iterator[str]:
    """The URL of a loopback port that is bound but not listening: connecting is refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The URL of a listener that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


# --- no server ----------------------------------------------------------------------


async def test_joining_a_server_that_is_not_running_names_the_url_and_what_to_do(
    closed_port: str,
) -> None:
    with pytest.raises(ServerUnreachableError) as caught:
        await MeetingClient.connect(f"{closed_port}/m/abc", name="Note Taker")
    error = caught.value
    assert isinstance(error, MeetwardenError)
    assert isinstance(error, ConnectionError)
    assert closed_port in str(error)
    assert "meetwarden serve" in str(error)
    assert error.reason == "server_unreachable"
    assert error.params["url"] == closed_port
    assert "ConnectionRefusedError" in error.params["cause"]


async def test_creating_a_meeting_on_a_server_that_is_not_running_is_server_unreachable(
    closed_port: str,
) -> None:
    with pytest.raises(ServerUnreachableError) as caught:
        await HostAPI.create_meeting(closed_port, {}, api_key="mwk_unused")
    assert caught.value.params["url"] == closed_port
    assert "ConnectError" in caught.value.params["cause"]


async def test_a_host_name_that_does_not_resolve_is_server_unreachable() -> None:
    url = "http://no-such-host.invalid"  # RFC 6761: never resolves
    with pytest.raises(ServerUnreachableError) as caught:
        await MeetingClient.connect(f"{url}/m/abc", name="Note Taker", timeout=10)
    assert caught.value.params["url"] == url


# --- too slow -----------------------------------------------------------------------


async def test_a_server_that_never_answers_times_out_as_a_timeout_error(
    silent_server: str,
) -> None:
    with pytest.raises(TimeoutError) as caught:  # code written for asyncio's keeps working
        await MeetingClient.connect(f"{silent_server}/m/abc", name="Note Taker", timeout=0.5)
    error = caught.value
    assert isinstance(error, MeetwardenTimeoutError)
    assert error.reason == "timed_out"
    assert error.params["seconds"] == 0.5
    assert silent_server in str(error)
    assert "timeout=" in str(error)


async def test_waiting_for_an_event_that_does_not_come_is_a_meetwarden_timeout(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    try:
        with pytest.raises(MeetwardenTimeoutError) as caught:
            await meeting.host.wait_for(ChatReceived, timeout=0.2)
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.params["waiting_for"] == "a ChatReceived event"
        assert str(caught.value).startswith("Timed out after 0.2 s waiting for a ChatReceived")
    finally:
        await meeting.close()


# --- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "server_url"),
    [("not a link", None), ("http://127.0.0.1:1/meeting/abc", None), ("abc", "127.0.0.1:8000")],
    ids=["no-server", "no-/m/-path", "server-without-scheme"],
)
async def test_a_bad_join_link_says_what_a_link_looks_like(
    link: str, server_url: str | None
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await MeetingClient.connect(link, name="Note Taker", server=server_url)
    assert isinstance(caught.value, ValueError)  # existing `except ValueError` still catches it
    assert caught.value.reason == "invalid_argument"
    assert caught.value.params["argument"] in ("link", "server")
    assert "http" in str(caught.value)


async def test_an_unknown_source_or_share_kind_lists_the_valid_choices(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    try:
        with pytest.raises(InvalidArgumentError) as caught:
            await meeting.host.request_share("desktop")  # type: ignore[arg-type]
        assert caught.value.params["choices"] == ["screen", "file"]
        assert "'screen', 'file'" in str(caught.value)
        with pytest.raises(InvalidArgumentError) as caught:
            await meeting.host.set_role("nobody-yet", "admin")
        assert caught.value.params["choices"] == ["cohost", "participant"]
        with pytest.raises(InvalidArgumentError) as caught:
            await meeting.host.media.wait_for_track("someone", "webcam")  # type: ignore[arg-type]
        assert caught.value.params["choices"] == list(wire.SOURCES)
        assert "webcam" in str(caught.value)
        assert "'camera'" in str(caught.value)
        await meeting.host.chat("the connection is still fine")  # nothing was sent
    finally:
        await meeting.close()


# --- refusals carry their data ------------------------------------------------------


async def test_a_refused_join_carries_its_reason_and_rule_as_data(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {"entry": {"password": True}}, "correct horse")
    try:
        with pytest.raises(JoinRefusedError) as caught:
            await MeetingClient.connect(meeting.join_url, name="Bob Smith", password="wrong")
        assert caught.value.reason == "join_failed"
        assert caught.value.params["rule"] == caught.value.rule
        assert caught.value.params["message"] == caught.value.message
    finally:
        await meeting.close()


async def test_an_invalid_policy_lists_each_error_with_its_pointer(server: RunningServer) -> None:
    bad = {
        "entry": {"password": "yes", "max_participants": 1},
        "audio": {"unmute": "whenever"},
        "chat": {"allowed": 3},
        "name": 7,
    }
    with pytest.raises(ApiError) as caught:
        await HostAPI.create_meeting(server.url, bad, api_key=api_key_for(server.url))
    text, errors = str(caught.value), caught.value.params["errors"]
    assert len(errors) >= 4
    assert f"({len(errors)} errors)" in text
    assert "error(s)" not in text
    for error in errors[:3]:
        assert error["pointer"] in text
    assert text.endswith(f"and {len(errors) - 3} more. [policy_invalid]")

    with pytest.raises(ApiError) as caught:
        await HostAPI.create_meeting(
            server.url, {"entry": {"password": "yes"}}, api_key=api_key_for(server.url)
        )
    assert "(1 error): /entry/password: " in str(caught.value)


async def test_a_policy_update_refused_on_the_socket_lists_its_errors(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    try:
        with pytest.raises(PolicyRefusedError) as caught:
            await meeting.host.update_policy({"entry": {"password": "yes"}})
        assert caught.value.reason == "policy_invalid"
        assert "(1 error): /entry/password: " in str(caught.value)
        assert caught.value.params["errors"][0]["pointer"] == "/entry/password"
    finally:
        await meeting.close()


async def test_a_request_after_the_connection_closed_is_connection_closed(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    try:
        guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
        await admit(meeting.host, guest)
        await guest.close()
        with pytest.raises(ConnectionClosedError) as caught:
            await guest.chat("anyone there?")
        assert caught.value.reason == "connection_closed"
        assert caught.value.params["close_code"] == 1000
        assert "reconnect()" in str(caught.value)
    finally:
        await meeting.close()


# --- files --------------------------------------------------------------------------


async def test_a_streamed_file_over_the_limit_is_file_too_large_not_a_reset(
    server: RunningServer,
) -> None:
    """No size header: the server stops reading and closes; the SDK still says why."""
    pulled = 0

    async def recording() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(256):  # 64 MiB if it were all read
            pulled += 1
            yield b"x" * (256 * 1024)

    meeting = await hosted_meeting(server.url, {"file_share": {"max_bytes": 10_000}})
    try:
        with pytest.raises(PolicyRefusedError) as caught:
            await meeting.host.share_file(recording(), name="rec.txt", content_type="text/plain")
        assert (caught.value.reason, caught.value.rule) == (
            "file_too_large",
            "/file_share/max_bytes",
        )
        assert "10000 bytes" in str(caught.value)
        assert pulled < 256, "the SDK stopped sending once the server refused"
        token = await meeting.host.file_token()
        assert token.max_bytes == 10_000
    finally:
        await meeting.close()


# --- what a host gets back ----------------------------------------------------------


async def test_secrets_stay_out_of_reprs_and_the_meeting_is_typed(server: RunningServer) -> None:
    created = await HostAPI.create_meeting(server.url, {}, api_key=api_key_for(server.url))
    assert created.host_token not in repr(created)
    assert created.meeting_id in repr(created)
    async with HostAPI(server.url, created.meeting_id, created.host_token) as api:
        invite = await api.create_invite()
        assert invite.invite_token not in repr(invite)
        assert invite.invite_id in repr(invite)
        status = await api.meeting()
        assert isinstance(status, MeetingStatus)
        assert status.meeting_id == created.meeting_id
        assert status.ended is False
        assert status["locked"] is status.locked  # item access, as the dict had
        assert dict(status)["participants"] == 0
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    try:
        assert host.resume_token is not None
        assert host.device_token is not None
        join = wire.Join(name="Alice Chen", host_token=created.host_token, password="pw")
        assert created.host_token not in repr(join)
        assert "pw" not in repr(join)
        token = await host.file_token()
        assert token.token not in repr(token)
    finally:
        await host.close()
