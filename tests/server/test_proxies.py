"""Behind a reverse proxy (``--trusted-proxy``): per-address limits count the real client.

The proxy is played by a socket from 127.0.0.1 that sends X-Forwarded-For, as
nginx's ``proxy_add_x_forwarded_for`` does. A server that does not trust the
sender ignores the header, so a client cannot forge itself fresh budgets.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import websockets
from support.meetings import hosted_meeting
from support.server import RunningServer

from meetwarden.server.door import MAX_SOCKETS_ENV

pytestmark = pytest.mark.anyio

OPEN = {"entry": {"waiting_room": {"enabled": False}}}


@dataclass
class Proxied:
    server: RunningServer
    trusted: bool


@pytest.fixture(params=["trusted", "direct"])
def proxied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    trusted = request.param == "trusted"
    args = ["--trusted-proxy", "127.0.0.1"] if trusted else []
    running = RunningServer(
        tmp_path_factory.mktemp("proxied"), extra_args=args, env={MAX_SOCKETS_ENV: "2"}
    ).start()
    yield Proxied(running, trusted)
    running.stop()


async def _join_as(
    server: RunningServer, meeting_id: str, client: str, name: str
) -> tuple[str, websockets.ClientConnection]:
    socket = await websockets.connect(
        f"{server.ws_url}/ws/meetings/{meeting_id}",
        additional_headers={"X-Forwarded-For": client},
        open_timeout=15,
    )
    with contextlib.suppress(websockets.ConnectionClosed):  # a refused socket is told at once
        await socket.send(json.dumps({"type": "join", "name": name}))
    first = json.loads(await socket.recv())
    return (first.get("code") or first["type"]), socket


async def test_per_address_limits_count_the_client_a_trusted_proxy_names(
    proxied: Proxied,
) -> None:
    server = proxied.server
    meeting = await hosted_meeting(server.url, OPEN)  # the host: one socket from 127.0.0.1
    sockets = []
    try:
        answer, socket = await _join_as(server, meeting.meeting_id, "198.51.100.7", "Bob Smith")
        sockets.append(socket)
        assert answer == "welcome"
        # 127.0.0.1 now holds two sockets, its cap; 198.51.100.7 one.
        answer, socket = await _join_as(server, meeting.meeting_id, "198.51.100.8", "Carol Jones")
        sockets.append(socket)
        if proxied.trusted:
            assert answer == "welcome"  # another person behind the proxy, with its own count
        else:
            assert answer == "too_many_connections"  # a forged header opens nothing
    finally:
        for socket in sockets:
            await socket.close()
        await meeting.close()
