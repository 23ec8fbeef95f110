"""At the door (server/door.py, server/ws.py): bodies, sockets and talk before a join, capped.

Raw HTTP over a socket, so that a body can be left unfinished, and raw
WebSockets from chosen loopback addresses (``support/sources.py``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute
from support.meetings import hosted_meeting
from support.server import RunningServer
from support.sources import join_from, socket_from

from meetwarden import protocol as wire
from meetwarden.server.app import create_app
from meetwarden.server.config import Settings
from meetwarden.server.door import DEFAULT_BODY_LIMIT, MAX_SOCKETS_ENV

pytestmark = pytest.mark.anyio

OPEN = {"entry": {"waiting_room": {"enabled": False}}}
MIB = 1024 * 1024


async def answer_to(port: int, head: str, body: bytes = b"", timeout: float = 10.0) -> bytes:
    """Sends a request's head and part of its body, never the rest; the answer's head and
    body, read until the server closes or the deadline (an answer that never comes fails)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + body)
    await writer.drain()
    answer = b""
    try:
        async with asyncio.timeout(timeout):
            while b"\r\n\r\n" not in answer or not _complete(answer):
                chunk = await reader.read(65536)
                if not chunk:
                    break
                answer += chunk
    except ConnectionResetError:
        pass  # the server stopped reading what we still had in flight
    finally:
        writer.transport.abort()  # unsent bytes dropped now: a closing transport left to GC warns
    return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", head.lower())
    return length is not None and len(body) >= int(length.group(1))


def problem_of(answer: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), answer[:200]
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def chunked(size: int) -> bytes:
    return f"{size:x}\r\n".encode() + b" " * size + b"\r\n"


def body_routes() -> Iterator[tuple[str, str]]:
    """Every route of the app that takes a body, its path parameters filled in."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods & {"POST", "PUT", "PATCH", "DELETE"}):
                    yield method, re.sub(r"\{[^}]+\}", "x", prefix + route.path)
            elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    yield from walk(create_app(Settings()).routes, "")


@pytest.mark.parametrize("path", ["/api/policies/explain", "/api/meetings"])
async def test_an_unfinished_chunked_body_over_the_limit_is_answered_without_being_read(
    server: RunningServer, path: str
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {server.api_key}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    # The operator's key, so that creating a meeting would go on to read the body.
    # 1 MiB of a body that never ends: an answer can only come from counting.
    answer = await answer_to(server.port, head, chunked(MIB))
    status, headers, problem = problem_of(answer)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close", "the server stops reading a body it refused"
    assert problem["reason"] == "too_large"


async def test_a_client_that_reads_only_after_sending_still_gets_the_answer(
    server: RunningServer,
) -> None:
    """The door lingers: what the client has in flight is read and dropped before the
    close, so that closing does not reset the connection and lose the answer."""

    async def four_mib() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b" " * MIB

    operator = {"Authorization": f"Bearer {server.api_key}"}  # creating a meeting needs it
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=operator) as http:
        for path in ("/api/policies/explain", "/api/meetings"):
            response = await http.post(path, content=four_mib())
            assert response.status_code == 413, path
            assert response.headers["content-type"] == "application/problem+json"


async def test_every_body_declared_over_the_limit_is_refused_before_it_is_sent(
    server: RunningServer,
) -> None:
    routes = list(body_routes())
    assert ("POST", "/api/policies/explain") in routes
    for method, path in routes:
        limit = 1024 * MIB if path.endswith("/files") else DEFAULT_BODY_LIMIT
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {limit + 1}\r\n\r\n"
        )
        status, _, problem = problem_of(await answer_to(server.port, head))
        assert (status, problem["reason"]) == (413, "too_large"), (method, path)


async def test_a_body_within_the_limit_still_reads_whole(server: RunningServer) -> None:
    document = json.dumps({"name": "x" * (DEFAULT_BODY_LIMIT - 100)}).encode()
    head = (
        "POST /api/policies/explain HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    first, second = document[: len(document) // 2], document[len(document) // 2 :]
    body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (first, second))
    answer = await answer_to(server.port, head, body + b"0\r\n\r\n")
    head_line = answer.split(b"\r\n", 1)[0]
    assert head_line.startswith(b"HTTP/1.1 422 "), head_line  # read whole: a name too long


@pytest.fixture
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("capped"), env={MAX_SOCKETS_ENV: "5"}).start()
    yield running
    running.stop()


async def test_sockets_from_one_address_are_capped_and_others_still_get_in(
    capped: RunningServer,
) -> None:
    meeting = await hosted_meeting(capped.url, OPEN)
    crowd = "127.0.9.1"
    held = [
        await join_from(capped.ws_url, meeting.meeting_id, crowd, f"Guest Number{'s' * n}")
        for n in range(5)
    ]
    assert {answer.type for answer in held} == {"welcome"}
    extra = await socket_from(capped.ws_url, meeting.meeting_id, crowd)
    refusal = json.loads(await asyncio.wait_for(extra.recv(), 10))
    assert (refusal["type"], refusal["code"]) == ("error", "too_many_connections")
    await asyncio.wait_for(extra.wait_closed(), 10)
    assert extra.close_code == wire.CLOSE_TRY_AGAIN_LATER
    assert extra.close_reason == "too many connections from your address"
    elsewhere = await join_from(capped.ws_url, meeting.meeting_id, "127.0.9.2", "Carol Jones")
    assert elsewhere.type == "welcome"
    await held[0].leave()  # one closes: the address may open one again
    async with asyncio.timeout(10):
        while True:
            again = await join_from(capped.ws_url, meeting.meeting_id, crowd, "Dan Brown")
            if again.type == "welcome":
                break
            await asyncio.sleep(0.05)  # the server has not yet seen the socket end
    for answer in (*held[1:], elsewhere, again):
        await answer.leave()
    await meeting.close()


async def test_idle_sockets_give_way_to_a_person_joining_from_the_same_address(
    capped: RunningServer,
) -> None:
    """Sockets opened and never joined cannot keep a guest behind the same NAT out."""
    meeting = await hosted_meeting(capped.url, OPEN)
    shared = "127.0.9.3"
    idle = [await socket_from(capped.ws_url, meeting.meeting_id, shared) for _ in range(5)]
    guest = await join_from(capped.ws_url, meeting.meeting_id, shared, "Erin Walsh")
    assert guest.type == "welcome"
    oldest = json.loads(await asyncio.wait_for(idle[0].recv(), 10))
    assert (oldest["type"], oldest["code"]) == ("error", "too_many_connections")
    await asyncio.wait_for(idle[0].wait_closed(), 10)
    assert idle[0].close_code == wire.CLOSE_TRY_AGAIN_LATER
    # the other idle ones are still open: each still answers a ping
    for socket in idle[1:]:
        await asyncio.wait_for(await socket.ping(), 10)
    # joined sockets never give way: with the guest and four idle ones, a second
    # guest takes the oldest idle one's place, and so on until only joined remain
    more = [
        await join_from(capped.ws_url, meeting.meeting_id, shared, f"Guest Number{'s' * n}")
        for n in range(4)
    ]
    assert {answer.type for answer in more} == {"welcome"}
    refused = await socket_from(capped.ws_url, meeting.meeting_id, shared)
    refusal = json.loads(await asyncio.wait_for(refused.recv(), 10))
    assert (refusal["type"], refusal["code"]) == ("error", "too_many_connections")
    for answer in (guest, *more):
        await answer.leave()
    for socket in (*idle, refused):
        await socket.close()
    await meeting.close()


async def test_a_socket_that_talks_before_joining_is_closed_after_a_few_answers(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, OPEN)
    socket = await socket_from(server.ws_url, meeting.meeting_id, "127.0.0.1")
    answers = 0
    async with asyncio.timeout(10):
        try:
            for number in range(3000):
                await socket.send(json.dumps({"type": "raise_hand", "id": number}))
        except websockets.ConnectionClosed:
            pass
        try:
            async for text in socket:
                assert json.loads(text)["code"] in {"not_joined", "malformed"}
                answers += 1
        except websockets.ConnectionClosed:
            pass
    assert socket.close_code == wire.CLOSE_POLICY
    assert socket.close_reason == "too many messages before the join"
    assert answers <= 5
    await meeting.close()
