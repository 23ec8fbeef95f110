"""Bad input, end to end, over raw sockets and raw HTTP (not the SDK, which never sends it).

Each case is one item of shared/notes/security-bar.md section 4 (groups A, D, E,
G and K). What must hold every time: a clear ``error`` with a stable code, or a
documented close code (protocol.py ``CLOSE_*``); never a traceback in the
server's log; the meeting is not stuck (it answers the next request); and no
other meeting notices anything.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
import warnings
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer
from websockets.asyncio.client import ClientConnection
from websockets.frames import CloseCode

from meetwarden import protocol as wire
from meetwarden.client_sdk import ChatReceived, MeetingClient, RosterChanged

pytestmark = pytest.mark.anyio

OPEN = {"entry": {"waiting_room": {"enabled": False}}, "audio": {"unmute": "self"}}
"""Guests go straight in, so a raw socket is in the meeting after one message."""
_LOG_ALARMS = ("Traceback", "ERROR", "Exception in ASGI", "Task exception was never retrieved")
_LOG_EXPECTED = ("ERROR:    Invalid UTF-8 sequence received from client.",)
"""uvicorn's one line for a text frame that is not UTF-8 (its traceback is filtered out)."""


def alarms(lines: list[str]) -> list[str]:
    """Log lines that tell of a traceback or an error the server did not expect."""
    return [
        line
        for line in lines
        if any(alarm in line for alarm in _LOG_ALARMS) and not line.startswith(_LOG_EXPECTED)
    ]


# --- a raw participant: JSON text in, JSON text out, nothing checked on our side ---------


class Raw:
    """One raw WebSocket to a meeting; keeps every message it read."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.received: list[dict[str, Any]] = []
        self.participant_id = ""

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.socket.send(json.dumps(message) if isinstance(message, dict) else message)

    async def expect(self, kind: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The next message of this type whose fields match (others are kept, skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.socket.recv())
                self.received.append(message)
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    return message

    async def closed(self, timeout: float = 10.0) -> int | None:
        """Reads until the server closes the socket; the close code."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    self.received.append(json.loads(await self.socket.recv()))
            except websockets.ConnectionClosed:
                pass
        return self.socket.close_code

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.received if message["type"] == kind]


_opened: list[Raw] = []


async def raw_socket(server: RunningServer, meeting_id: str, **options: Any) -> Raw:
    """A raw socket to the meeting (closed at the end of the test, whatever happened)."""
    options.setdefault("compression", None)
    socket = await websockets.connect(
        f"{server.ws_url}/ws/meetings/{meeting_id}", open_timeout=10, **options
    )
    _opened.append(Raw(socket))
    return _opened[-1]


async def raw_join(
    server: RunningServer, meeting_id: str, name: str = "Bob Smith", **join: Any
) -> Raw:
    """A raw socket that joined and was let in (the meeting has no waiting room)."""
    raw = await raw_socket(server, meeting_id)
    await raw.send({"type": "join", "name": name, **join})
    raw.participant_id = (await raw.expect("welcome"))["participant_id"]
    await raw.expect("admitted")
    return raw


async def round_trip(raw: Raw, ref: int) -> dict[str, Any]:
    """A harmless request and its result: everything sent before it has been handled."""
    await raw.send({"type": "raise_hand", "id": ref})
    return await raw.expect("result", ref=ref)


async def marker(sender: MeetingClient, *readers: MeetingClient) -> None:
    """A chat everyone reads: what the meeting did before it, readers have seen by now."""
    text = f"marker {secrets.token_hex(4)}"
    await sender.chat(text)
    for reader in readers:
        await reader.wait_for(ChatReceived, lambda e: e.message.text == text)


def chats_seen(client: MeetingClient) -> list[str]:
    return [e.message.text for e in client._buffer if isinstance(e, ChatReceived)]


async def stream_until_answered(
    server: RunningServer, path: str, size: int, headers: dict[str, str] | None = None
) -> tuple[int, int]:
    """POSTs ``size`` bytes without a length, 1 MiB at a time, reading at the same time (a
    client that stops on an early answer); the answer's status and the bytes sent by then."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{extra}Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    sent = 0

    async def send() -> None:
        nonlocal sent
        chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
        with contextlib.suppress(ConnectionError):
            while sent < size:
                writer.write(chunk)
                await writer.drain()
                sent += 0x100000
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    sending = asyncio.create_task(send())
    try:
        async with asyncio.timeout(60):
            status_line = await reader.readline()
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.transport.abort()  # unsent bytes dropped now: a closing transport left to GC warns
    return int(status_line.split()[1]), sent


def peak_rss_kib(server: RunningServer) -> int:
    """The most memory the server process has held at once so far (VmHWM)."""
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own, so its whole log can be checked at the end."""
    running = RunningServer(tmp_path_factory.mktemp("bad-input")).start()
    yield running
    running.stop()
    assert not alarms(running.log), "".join(running.log)


@pytest.fixture(autouse=True)
def no_traceback_in_the_log(server: RunningServer) -> Iterator[None]:
    start = len(server.log)
    yield
    assert not alarms(server.log[start:]), "".join(server.log[start:])


@pytest.fixture(autouse=True)
async def close_raw_sockets() -> AsyncIterator[None]:
    yield
    while _opened:
        await _opened.pop().socket.close()


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Hosted]:
    hosted = await hosted_meeting(server.url, OPEN)
    yield hosted
    await hosted.close()


@pytest.fixture
async def bystanders(server: RunningServer) -> AsyncIterator[tuple[MeetingClient, MeetingClient]]:
    """Another meeting on the same server, with a host and a guest who chat."""
    other = await hosted_meeting(server.url, {}, host_name="Olga Petrova")
    guest = await MeetingClient.connect(other.join_url, name="Omar Haddad")
    await admit(other.host, guest)
    yield other.host, guest
    await guest.close()
    await other.close()


async def still_fine(pair: tuple[MeetingClient, MeetingClient]) -> None:
    host, guest = pair
    assert (host.status, guest.status) == ("admitted", "admitted")
    await marker(guest, host, guest)


# --- A. the WebSocket: size, parsing, frames ----------------------------------------------


async def test_a_message_over_64_kib_closes_the_socket_with_1009(
    server: RunningServer, meeting: Hosted, bystanders: Any
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.send(json.dumps({"type": "chat", "text": "x" * (wire.MAX_MESSAGE_BYTES + 1)}))
    assert await raw.closed() == wire.CLOSE_TOO_BIG
    before_join = await raw_socket(server, meeting.meeting_id)
    await before_join.send({"type": "join", "name": "B" * (wire.MAX_MESSAGE_BYTES + 1)})
    assert await before_join.closed() == wire.CLOSE_TOO_BIG
    await meeting.host.wait_for(
        RosterChanged, lambda e: raw.participant_id not in {p.id for p in e.roster}
    )
    await still_fine(bystanders)


def _compressed_text_frame(payload: bytes) -> bytes:
    """A client's text frame with RSV1 set, as permessage-deflate marks a compressed one
    (RFC 7692 section 6; the frame layout of RFC 6455 section 5.2): websockets writes no
    such frame unless the extension was agreed."""
    mask = secrets.token_bytes(4)
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        length = bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x80 | 0x40 | 0x1]) + length + mask + masked  # FIN, RSV1, text


async def test_nothing_is_compressed_and_a_20_mb_deflate_bomb_is_closed_without_inflating_it(
    server: RunningServer, meeting: Hosted, bystanders: Any
) -> None:
    """permessage-deflate is declined (server/serving.py: the tokens a participant is sent
    are never compressed with text others chose). A client that compresses a frame anyway
    is closed as breaking the protocol, its frame never inflated."""
    raw = await raw_socket(server, meeting.meeting_id, compression="deflate", max_size=None)
    assert raw.socket.response is not None
    assert raw.socket.response.headers.get("Sec-WebSocket-Extensions") is None
    before = peak_rss_kib(server)
    bomb = ('{"type": "join", "name": "' + "A" * 20_000_000 + '"}').encode()
    deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # RFC 7692 section 7.2.1
    compressed = (deflate.compress(bomb) + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert len(compressed) < 64 * 1024
    raw.socket.transport.write(_compressed_text_frame(compressed))
    assert await raw.closed() == CloseCode.PROTOCOL_ERROR  # 1002, RFC 6455 section 7.4.1
    assert peak_rss_kib(server) - before < 16 * 1024, "the server inflated the message"
    await still_fine(bystanders)


async def test_200000_deep_nesting_is_refused_without_recursing(
    server: RunningServer, meeting: Hosted, bystanders: Any
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    # Deep, yet under the size cap: the depth check answers, the socket carries on.
    depth = (wire.MAX_MESSAGE_BYTES - 100) // 2
    await raw.send('{"type": "chat", "text": ' + "[" * depth + "]" * depth + "}")
    error = await raw.expect("error")
    assert error["code"] == "malformed"
    assert "nests more than" in error["message"]
    assert (await round_trip(raw, 1))["allowed"]
    # 200 000 deep is 400 KB: over the cap, closed before any parsing.
    deep = await raw_socket(server, meeting.meeting_id, max_size=None)
    await deep.send("[" * 200_000 + "]" * 200_000)
    assert await deep.closed() == wire.CLOSE_TOO_BIG
    await still_fine(bystanders)


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "chat", "text": "hello", "type": "remove", "participant": "GUEST"}',
        '{"type": "remove", "participant": "GUEST", "type": "chat", "text": "hello"}',
    ],
    ids=["chat-then-remove", "remove-then-chat"],
)
async def test_duplicate_keys_are_refused_and_never_acted_on(
    server: RunningServer, meeting: Hosted, text: str
) -> None:
    guest = await MeetingClient.connect(meeting.join_url, name="Gina Lopez")
    assert guest.participant_id is not None
    host = await raw_join(server, meeting.meeting_id, "Alice Chen", host_token=meeting.host_token)
    await host.send(text.replace("GUEST", guest.participant_id))
    error = await host.expect("error")
    assert error["code"] == "malformed"
    assert "appears more than once" in error["message"]
    await marker(meeting.host, guest)
    assert guest.status == "admitted", "the second 'type' did not remove the guest"
    assert "hello" not in chats_seen(guest), "the first 'type' did not chat either"
    await guest.close()
    await host.socket.close()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "chat", "text": ', "malformed"),
        ("chat", "malformed"),
        ("[1, 2, 3]", "malformed"),
        ('"chat"', "malformed"),
        ("42", "malformed"),
        ("null", "malformed"),
        ('{"text": "no type"}', "malformed"),
        ('{"type": 5}', "malformed"),
        ('{"type": "chat", "text": "x", "id": NaN}', "malformed"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "chat", "text": ""}', "invalid"),
        ('{"type": "chat", "text": 42}', "invalid"),
        ('{"type": "lock", "locked": "false"}', "invalid"),
        ('{"type": "chat", "text": "x", "id": -1}', "invalid"),
    ],
)
async def test_a_message_the_server_cannot_take_gets_an_error_and_the_socket_goes_on(
    server: RunningServer, meeting: Hosted, text: str, code: str
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.send(text)
    error = await raw.expect("error")
    assert error["code"] == code
    assert error["message"]
    assert (await round_trip(raw, 7))["allowed"]
    await raw.socket.close()


async def test_many_malformed_messages_close_the_socket_with_1007(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    for _ in range(40):
        try:
            await raw.send("{not json")
        except websockets.ConnectionClosed:
            break
    assert await raw.closed() == wire.CLOSE_INVALID_DATA
    assert 1 <= len(raw.of_type("error")) <= 21


async def test_a_binary_frame_closes_the_socket_with_1003(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.send(b'{"type": "chat", "text": "binary"}')
    assert await raw.closed() == wire.CLOSE_UNSUPPORTED
    assert raw.socket.close_reason == "binary frames are not part of this protocol"
    before_join = await raw_socket(server, meeting.meeting_id)
    await before_join.send(b"\x00\x01")
    assert await before_join.closed() == wire.CLOSE_UNSUPPORTED


async def test_invalid_utf8_in_a_text_frame_closes_the_socket_with_1007(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.socket.send(b'{"type": "chat", "text": "\xff\xfe"}', text=True)
    assert await raw.closed() == wire.CLOSE_INVALID_DATA


# --- A. the protocol's order: join first, once; nothing after leave -----------------------


async def test_actions_before_join_are_refused_with_not_joined(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_socket(server, meeting.meeting_id)
    await raw.send({"type": "chat", "text": "hi", "id": 1})
    assert (await raw.expect("error", ref=1))["code"] == "not_joined"
    await raw.send({"type": "end_meeting", "id": 2})
    assert (await raw.expect("error", ref=2))["code"] == "not_joined"
    await raw.send({"type": "subscribe", "id": 3})  # media before joining, too
    assert (await raw.expect("error", ref=3))["code"] == "not_joined"
    await raw.send({"type": "join", "name": "Eve Stone", "role": "host"})
    assert (await raw.expect("error"))["code"] == "invalid", "a join cannot carry a role"
    await raw.send({"type": "join", "name": "Eve Stone"})
    welcome = await raw.expect("welcome")
    assert welcome["role"] == "participant"
    await raw.expect("admitted")
    assert (await meeting.api.meeting())["ended"] is False
    await raw.socket.close()


async def test_a_second_join_is_refused_with_already_joined(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.send(
        {"type": "join", "name": "Other Name", "host_token": meeting.host_token, "id": 3}
    )
    assert (await raw.expect("error", ref=3))["code"] == "already_joined"
    you = (await round_trip(raw, 4))["allowed"]
    assert you
    roster = {entry.name: entry.role for entry in meeting.host.roster}
    assert roster.get("Bob Smith") == "participant", "the second join changed nothing"
    assert "Other Name" not in roster
    await raw.socket.close()


async def test_nothing_sent_after_leave_is_acted_on(server: RunningServer, meeting: Hosted) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await meeting.host.wait_for(
        RosterChanged, lambda e: raw.participant_id in {p.id for p in e.roster}
    )
    # Sent back to back, so the chat is on the wire before the server closes.
    await raw.send({"type": "leave", "id": 1})
    await raw.send({"type": "chat", "text": "after leave", "id": 2})
    assert await raw.closed() == wire.CLOSE_NORMAL
    assert [m["reason"] for m in raw.of_type("result")] == ["left"]
    assert not [m for m in raw.received if m.get("ref") == 2]
    await meeting.host.wait_for(
        RosterChanged, lambda e: raw.participant_id not in {p.id for p in e.roster}
    )
    late = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    await marker(meeting.host, late)
    assert "after leave" not in chats_seen(meeting.host)
    await late.close()


# --- A/G. identity comes from the session; host actions need the role ----------------------


@pytest.mark.parametrize(
    "spoof",
    [
        {"type": "chat", "text": "I am the host", "participant": "HOST"},
        {"type": "chat", "text": "I am the host", "role": "host"},
        {"type": "chat", "text": "I am the host", "sender": "HOST", "sender_name": "Alice Chen"},
        {"type": "raise_hand", "participant": "HOST"},
        {"type": "request_unmute", "actor": "HOST"},
        {"type": "admit_all", "as": "host"},
    ],
    ids=["participant", "role", "sender", "hand-of-host", "actor", "as-host"],
)
async def test_spoofed_identity_fields_are_refused_as_invalid(
    server: RunningServer, meeting: Hosted, spoof: dict[str, Any]
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    assert meeting.host.participant_id is not None
    message = {k: meeting.host.participant_id if v == "HOST" else v for k, v in spoof.items()}
    await raw.send({**message, "id": 1})
    error = await raw.expect("error")  # no ref: the message never became a request
    assert error["code"] == "invalid"
    assert "Extra inputs are not permitted" in error["message"]
    await marker(meeting.host, meeting.host)
    assert "I am the host" not in chats_seen(meeting.host)
    you = meeting.host.you
    assert you is not None
    assert (you.hand_raised, you.role) == (False, "host")
    entry = next(p for p in meeting.host.roster if p.id == raw.participant_id)
    assert (entry.role, entry.muted) == ("participant", True)
    await raw.socket.close()


async def test_host_actions_by_a_participant_are_refused_with_not_a_host(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    other = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    host_id = meeting.host.participant_id
    actions: list[dict[str, Any]] = [
        {"type": "remove", "participant": other.participant_id},
        {"type": "ban", "participant": other.participant_id},
        {"type": "mute", "participant": host_id},
        {"type": "mute_all"},
        {"type": "ask_to_unmute", "participant": other.participant_id},
        {"type": "lock", "locked": True},
        {"type": "grant", "participant": raw.participant_id, "kind": "screen"},
        {"type": "revoke", "participant": host_id, "kind": "screen"},
        {"type": "set_role", "participant": raw.participant_id, "role": "cohost"},
        {"type": "lower_hand", "participant": other.participant_id},
        {"type": "admit_all"},
        {"type": "update_policy", "policy": {"entry": {"waiting_room": {"enabled": False}}}},
        {"type": "end_meeting"},
    ]
    for ref, action in enumerate(actions, start=1):
        await raw.send({**action, "id": ref})
        result = await raw.expect("result", ref=ref)
        # Roles, the policy and ending are the host's alone (a co-host is refused them too).
        host_alone = action["type"] in ("set_role", "update_policy", "end_meeting")
        expected = "not_the_host" if host_alone else "not_a_host"
        assert (result["allowed"], result["reason"]) == (False, expected), action
    info = await meeting.api.meeting()
    assert (info["ended"], info["locked"], info["participants"]) == (False, False, 3)
    assert (await meeting.api.policy())["revision"] == 1
    assert other.status == "admitted"
    entry = next(p for p in meeting.host.roster if p.id == raw.participant_id)
    assert entry.role == "participant"
    await other.close()
    await raw.socket.close()


# --- E/G. what a waiting participant and the wire never learn ------------------------------


async def test_a_waiting_participant_learns_nothing_and_can_do_nothing(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await admit(meeting.host, guest)
    waiting = await raw_socket(server, meeting.meeting_id)
    await waiting.send({"type": "join", "name": "Eve Stone"})
    await waiting.expect("waiting")
    await marker(meeting.host, guest)  # the meeting talks; the waiting room must not hear it
    await meeting.host.raise_hand()
    requests: list[dict[str, Any]] = [
        {"type": "chat", "text": "let me in"},
        {"type": "raise_hand"},
        {"type": "request_unmute"},
        {"type": "request_share", "kind": "screen"},
        {"type": "rename", "name": "Alice Chen"},
        {"type": "admit", "participant": "self"},
    ]
    for ref, request in enumerate(requests, start=1):
        await waiting.send({**request, "id": ref})
        result = await waiting.expect("result", ref=ref)
        assert result["allowed"] is False, request
    await waiting.send({"type": "subscribe", "id": 99})
    answer = await waiting.expect("error", ref=99)
    assert answer["code"] in ("not_admitted", "media_unavailable"), answer
    kinds = {message["type"] for message in waiting.received}
    assert kinds <= {"welcome", "waiting", "result", "error"}, kinds
    assert "let me in" not in chats_seen(meeting.host)
    await guest.close()
    await meeting.close()


async def test_the_password_and_its_hash_never_reach_a_client(server: RunningServer) -> None:
    password = "correct horse battery"
    async with httpx.AsyncClient(base_url=server.url, headers=_operator(server)) as http:
        created = await http.post(
            "/api/meetings", json={"policy": {"entry": {"password": True}}, "password": password}
        )
        meeting_id, token = created.json()["meeting_id"], created.json()["host_token"]
        auth = {"Authorization": f"Bearer {token}"}
        bodies = [created.text]
        for path in ("", "/policy", "/policy/versions", "/audit", "/audit.jsonl"):
            bodies.append((await http.get(f"/api/meetings/{meeting_id}{path}", headers=auth)).text)
    host = await raw_join(server, meeting_id, "Alice Chen", host_token=token)
    guest = await raw_socket(server, meeting_id)
    await guest.send({"type": "join", "name": "Bob Smith", "password": password})
    guest_id = (await guest.expect("welcome"))["participant_id"]
    await host.expect("waiting_list", waiting=[])  # first the empty list...
    waiting = await host.expect("waiting_update")  # ...then Bob
    assert [entry["id"] for entry in waiting["entries"]] == [guest_id]
    await host.send({"type": "admit", "participant": guest_id, "id": 1})
    await host.expect("result", ref=1)
    await guest.expect("admitted")
    await round_trip(guest, 2)
    frames = [json.dumps(m) for m in host.received + guest.received] + bodies
    for secret in (password, "$argon2", "argon2id"):
        assert not [frame for frame in frames if secret in frame], secret


# --- A/K. timing: a socket that never joins, a flood -------------------------------------


async def test_a_socket_that_never_joins_is_closed_with_1008(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEETWARDEN_JOIN_TIMEOUT", "1")
    quick = RunningServer(tmp_path).start()
    try:
        meeting = await hosted_meeting(quick.url, OPEN)
        started = time.monotonic()
        idle = await raw_socket(quick, meeting.meeting_id)
        chatty = await raw_socket(quick, meeting.meeting_id)
        await chatty.send({"type": "raise_hand", "id": 1})  # talking is not joining
        assert (await chatty.expect("error", ref=1))["code"] == "not_joined"
        assert await idle.closed() == wire.CLOSE_POLICY
        assert await chatty.closed() == wire.CLOSE_POLICY
        assert idle.socket.close_reason == "no join message in time"
        assert 0.9 <= time.monotonic() - started < 10  # the time is what is tested here
        await meeting.close()
    finally:
        quick.stop()
    assert not alarms(quick.log), "".join(quick.log)


async def test_a_flood_is_rate_limited_then_closed_and_another_meeting_keeps_working(
    server: RunningServer, meeting: Hosted, bystanders: tuple[MeetingClient, MeetingClient]
) -> None:
    flooder = await raw_join(server, meeting.meeting_id)
    other_host, other_guest = bystanders
    round_trips: list[float] = []

    async def flood() -> None:
        for number in range(2000):
            try:
                await flooder.send({"type": "chat", "text": f"flood {number}"})
            except websockets.ConnectionClosed:
                return

    async def chat_in_the_other_meeting() -> None:
        while flooder.socket.close_code is None or len(round_trips) < 3:
            started = time.perf_counter()
            await marker(other_guest, other_host)
            round_trips.append(time.perf_counter() - started)

    flooding = asyncio.create_task(flood())
    chatting = asyncio.create_task(chat_in_the_other_meeting())
    assert await flooder.closed(timeout=30) == wire.CLOSE_POLICY
    assert flooder.socket.close_reason == "message flood"
    await flooding
    await chatting
    limited = [m for m in flooder.of_type("error") if m["code"] == "rate_limited"]
    assert len(limited) > 200
    assert len(flooder.of_type("error")) == len(limited)
    await marker(other_guest, other_host)  # at least one round trip, after the flood too
    assert round_trips, "the other meeting's chat went round during the flood"
    assert max(round_trips) < 5.0, round_trips
    # The flooded meeting is not stuck: its host chats, a newcomer gets in.
    late = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
    await marker(meeting.host, late)
    await late.close()


# --- A. cross-site sockets ------------------------------------------------------------


async def test_a_cross_site_socket_is_refused_before_it_is_accepted(
    server: RunningServer, meeting: Hosted
) -> None:
    url = f"{server.ws_url}/ws/meetings/{meeting.meeting_id}"
    with pytest.raises(websockets.InvalidStatus) as caught:
        await websockets.connect(url, origin="https://evil.example")  # type: ignore[arg-type]
    assert caught.value.response.status_code == 403
    same_site = await websockets.connect(url, origin=server.url)  # type: ignore[arg-type]
    await same_site.send(json.dumps({"type": "join", "name": "Dan Brown"}))
    assert json.loads(await same_site.recv())["type"] == "welcome"
    await same_site.close()


# --- D. REST: scanning ids, forging tokens, bad bodies ------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def _get_meeting(
    http: httpx.AsyncClient, meeting_id: str, token: str | None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await http.get(f"/api/meetings/{meeting_id}", headers=headers)


def _same_404(responses: list[httpx.Response]) -> None:
    shapes = {
        (r.status_code, r.headers["content-type"], r.headers.get("content-length"), r.content)
        for r in responses
    }
    assert len(shapes) == 1, shapes
    status, content_type, _, body = shapes.pop()
    assert (status, content_type) == (404, "application/problem+json")
    assert json.loads(body)["reason"] == "not_found"


async def test_scanning_meeting_ids_gets_the_same_404_for_unknown_and_wrong_token(
    server: RunningServer, meeting: Hosted
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        random_token = meeting.host_token[:-4] + "AAAA"
        responses = [
            await _get_meeting(http, secrets.token_urlsafe(16), token)
            for token in [meeting.host_token, random_token] * 100
        ]
        responses += [
            await _get_meeting(http, meeting.meeting_id, "not-a-token"),
            await _get_meeting(http, meeting.meeting_id, random_token),
            await _get_meeting(http, meeting.meeting_id, None),
            await _get_meeting(http, meeting.meeting_id + "x", meeting.host_token),
            await _get_meeting(http, meeting.meeting_id.upper(), meeting.host_token),
            await _get_meeting(http, "a,b", meeting.host_token),
            await _get_meeting(http, "x%0A", meeting.host_token),
            await _get_meeting(http, "%00", meeting.host_token),
            await _get_meeting(http, "A" * 10_000, meeting.host_token),
        ]
        for path in ("/policy", "/audit", "/policy/versions"):
            responses.append(
                await http.get(
                    f"/api/meetings/{secrets.token_urlsafe(16)}{path}",
                    headers={"Authorization": f"Bearer {meeting.host_token}"},
                )
            )
        _same_404(responses)
        assert (await _get_meeting(http, meeting.meeting_id, meeting.host_token)).status_code == 200


async def test_forged_host_tokens_get_the_same_404(
    server: RunningServer, meeting: Hosted, tmp_path: Path
) -> None:
    secret = bytes.fromhex((server.data_dir / "secret.key").read_text().strip())
    claims = _claims(meeting.host_token)
    other = await _another_meetings_host_token(server)
    invite = await meeting.api.create_invite()
    now = int(time.time())
    with warnings.catch_warnings():  # PyJWT warns that 32 bytes are short for HS512
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        hs512 = jwt.encode(claims, secret, algorithm="HS512")
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg None": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(claims)}.",
        "another meeting's token": other,
        "expired": jwt.encode({**claims, "exp": now - 60}, secret, algorithm="HS256"),
        "no expiry": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256"
        ),
        "wrong signature": jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256"),
        "other algorithm, right key": hs512,
        "tampered subject": (
            f"{meeting.host_token.split('.')[0]}.{_b64({**claims, 'sub': 'x'})}."
            f"{meeting.host_token.split('.')[2]}"
        ),
        "wrong audience": jwt.encode({**claims, "aud": "elsewhere"}, secret, algorithm="HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "someone"}, secret, algorithm="HS256"),
        "an invite as host": invite.invite_token,
        "a participant's role": jwt.encode(
            {**claims, "typ": "resume", "role": "host"}, secret, algorithm="HS256"
        ),
        "right claims, other host key": jwt.encode(
            {**claims, "sub": secrets.token_urlsafe(16)}, secret, algorithm="HS256"
        ),
    }
    async with httpx.AsyncClient(base_url=server.url) as http:
        responses = {
            name: await _get_meeting(http, meeting.meeting_id, token)
            for name, token in forged.items()
        }
        _same_404(list(responses.values()))
        # The forging itself works: the same claims, validly signed, open the meeting.
        resigned = jwt.encode(claims, secret, algorithm="HS256")
        assert (await _get_meeting(http, meeting.meeting_id, resigned)).status_code == 200
    # Over the socket the same tokens only get the vague refusal.
    for name in ("alg none", "expired", "another meeting's token", "wrong signature"):
        raw = await raw_socket(server, meeting.meeting_id)
        await raw.send({"type": "join", "name": "Mallory Moss", "host_token": forged[name]})
        refusal = await raw.expect("join_refused")
        assert refusal["reason"] == "join_failed", name
        assert await raw.closed() == wire.CLOSE_JOIN_REFUSED


def _operator(server: RunningServer) -> dict[str, str]:
    """The operator's API key, which creating a meeting needs."""
    return {"Authorization": f"Bearer {server.api_key}"}


async def _another_meetings_host_token(server: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers=_operator(server)) as http:
        response = await http.post("/api/meetings", json={"policy": {}})
    return str(response.json()["host_token"])


async def test_rest_bodies_with_duplicate_keys_or_over_the_limit_get_problem_json(
    server: RunningServer, meeting: Hosted
) -> None:
    auth = {"Authorization": f"Bearer {meeting.host_token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, headers=_operator(server)) as http:
        created = await http.post(
            "/api/meetings",
            content=b'{"policy": {}, "policy": {"entry": {"waiting_room": {"enabled": false}}}}',
            headers={"Content-Type": "application/json"},
        )
        replaced = await http.put(
            f"/api/meetings/{meeting.meeting_id}/policy",
            content=b'{"chat": {"allowed": "everyone", "allowed": "nobody"}}',
            headers=auth,
        )
        for response, pointer in ((created, "/policy"), (replaced, "/chat/allowed")):
            assert response.status_code == 422
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["reason"] == "policy_invalid"
            assert problem["errors"][0]["code"] == "duplicate_key"
            assert problem["errors"][0]["pointer"] == pointer
        assert (await meeting.api.policy())["revision"] == 1, "the old policy stays in force"

        big = b'{"policy": {"name": "' + b"x" * 400_000 + b'"}}'
        too_large = await http.post(
            "/api/meetings", content=big, headers={"Content-Type": "application/json"}
        )
        assert too_large.status_code == 413
        assert too_large.headers["content-type"] == "application/problem+json"
        assert too_large.json()["reason"] == "too_large"

        before = peak_rss_kib(server)
        # Creating a meeting needs the operator's key: without it the answer is a 401.
        for path, headers in (("/api/meetings", _operator(server)), ("/api/policies/explain", {})):
            status, sent = await stream_until_answered(server, path, 64 * 1024 * 1024, headers)
            assert status == 413, path
            assert sent < 64 * 1024 * 1024, "answered before the body ended"
        assert peak_rss_kib(server) - before < 32 * 1024, "the server buffered the whole body"

        for bad in (b"[1, 2]", b"not json", b'{"policy": [], "password": 5}', b"{}" * 2):
            response = await http.post(
                "/api/meetings", content=bad, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 422, bad
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_client_scanning_meeting_ids_is_throttled(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    own = RunningServer(
        tmp_path_factory.mktemp("scan"), env={"MEETWARDEN_API_LOOKUP_LIMIT": "20"}
    ).start()
    try:
        async with httpx.AsyncClient(base_url=own.url) as http:
            statuses = [
                (await http.get(f"/api/meetings/{secrets.token_urlsafe(16)}")).status_code
                for _ in range(25)
            ]
        assert statuses[:20] == [404] * 20
        assert set(statuses[20:]) == {429}
    finally:
        own.stop()


async def test_an_invalid_request_is_answered_with_its_own_ref(
    server: RunningServer, meeting: Hosted
) -> None:
    raw = await raw_join(server, meeting.meeting_id)
    await raw.send({"type": "grant", "id": 77, "participant": "x", "kind": "fax"})
    reply = await raw.expect("error")
    assert (reply["ref"], reply["code"]) == (77, "invalid")
