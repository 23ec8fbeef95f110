"""Raw joins from a chosen loopback address: many clients, many addresses, one machine.

Every address in 127.0.0.0/8 is this machine on Linux, so a client can bind
its end of the socket to 127.0.0.7 or 127.0.5.1 and reach a server listening
on 127.0.0.1: to the server these are different addresses (and, for a /24,
different networks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

__all__ = ["Answer", "join_from", "socket_from"]


async def socket_from(ws_url: str, meeting_id: str, address: str) -> ClientConnection:
    return await websockets.connect(
        f"{ws_url}/ws/meetings/{meeting_id}",
        compression=None,
        open_timeout=15,
        local_addr=(address, 0),
    )


@dataclass
class Answer:
    """The server's first answer to a join, and how the socket ended."""

    message: dict[str, Any]
    close_code: int | None
    close_reason: str | None
    socket: ClientConnection

    @property
    def type(self) -> str:
        return str(self.message["type"])

    @property
    def reason(self) -> str | None:
        return self.message.get("reason")

    async def leave(self) -> None:
        await self.socket.close()


async def join_from(
    ws_url: str,
    meeting_id: str,
    address: str = "127.0.0.1",
    name: str = "Bob Smith",
    timeout: float = 30.0,
    **join: Any,
) -> Answer:
    """Joins from ``address``; a refusal is read to the socket's close, a welcome is kept open."""
    socket = await socket_from(ws_url, meeting_id, address)
    async with asyncio.timeout(timeout):
        with contextlib.suppress(websockets.ConnectionClosed):  # the door may refuse at once
            await socket.send(json.dumps({"type": "join", "name": name, **join}))
        first = json.loads(await socket.recv())  # the refusal, read before the close
        if first["type"] in ("join_refused", "error"):
            await socket.wait_closed()
            return Answer(first, socket.close_code, socket.close_reason, socket)
    return Answer(first, None, None, socket)
