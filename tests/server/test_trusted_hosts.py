"""Only the names the server is reached by: DNS rebinding gets no handshake, no page.

A page on ``evil.example`` whose name now points at the server sends Host and
Origin ``evil.example``: same-origin to any check that compares the two. Each
refusal here stands beside a control where the server's own name gets through.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import httpx
import pytest
from support.server import RunningServer

pytestmark = pytest.mark.anyio


async def handshake(server: RunningServer, host: str, origin: str) -> tuple[int, bytes]:
    """A WebSocket opening handshake with these Host and Origin; the status and the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws/meetings/some-meeting HTTP/1.1\r\nHost: {host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    rest = b""
    if b" 101 " not in head.split(b"\r\n")[0]:
        rest = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return int(head.split()[1]), rest


async def test_a_dns_rebinding_websocket_handshake_is_refused(server: RunningServer) -> None:
    own = f"127.0.0.1:{server.port}"
    control, _ = await handshake(server, own, f"http://{own}")
    assert control == 101  # the server's own name gets its socket
    status, body = await handshake(server, "evil.example", "http://evil.example")
    assert status == 400
    assert b"untrusted_host" in body
    status, _ = await handshake(
        server, f"evil.example:{server.port}", f"http://evil.example:{server.port}"
    )
    assert status == 400


async def test_pages_and_the_api_answer_only_to_the_servers_names(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answers = {
            host: await http.get("/m/some-meeting", headers={"Host": host})
            for host in (
                f"127.0.0.1:{server.port}",
                f"localhost:{server.port}",
                f"[::1]:{server.port}",
                "evil.example",
                "127.0.0.1.evil.example",
                "localhost.evil.example",
                "",
            )
        }
        api = await http.get("/api/policies/schema", headers={"Host": "evil.example"})
    assert [answer.status_code for answer in answers.values()] == [
        200,
        200,
        200,
        400,
        400,
        400,
        400,
    ]
    refused = answers["evil.example"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "untrusted_host"
    assert "--public-url" in refused.json()["detail"]
    assert api.status_code == 400
    assert any("refused a request for host 'evil.example'" in line for line in server.log)


async def test_a_public_url_names_the_host_the_server_answers_to(tmp_path: Path) -> None:
    server = RunningServer(
        tmp_path / "data", extra_args=["--public-url", "https://meet.example"]
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            statuses = {
                host: (await http.get("/openapi.json", headers={"Host": host})).status_code
                for host in (
                    "meet.example",
                    "MEET.example.",
                    f"127.0.0.1:{server.port}",
                    "other.example",
                )
            }
            # A health check tells a rebinding page nothing: it answers under any name.
            health = await http.get("/healthz", headers={"Host": "other.example"})
        own, _ = await handshake(server, "meet.example", "https://meet.example")
        rebound, _ = await handshake(server, "other.example", "https://other.example")
    finally:
        server.stop()
    # Listening on loopback, the loopback names still work (a reverse proxy on the machine).
    assert statuses == {
        "meet.example": 200,
        "MEET.example.": 200,
        f"127.0.0.1:{server.port}": 200,
        "other.example": 400,
    }
    assert health.status_code == 200
    assert (own, rebound) == (101, 400)
