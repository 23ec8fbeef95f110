"""A closed socket leaves nothing for the cycle collector: its objects go when it ends.

CPython frees an object when its last reference goes, except objects in a
reference cycle, which wait for the cycle collector (https://docs.python.org/3/library/gc.html).
A socket whose objects formed a cycle (the server's ``send`` kept in the socket's slot,
which its own scope holds; the writer kept by the session it writes for) left about 75
objects a connection for the collector: a crowd that came and went grew the heap until
a full pass walked it all at once (329 ms with the event loop stopped, after 8,400
joins; docs/performance.md). uvicorn's HTTP protocol (with its parser) and the
``websockets`` library's protocol (with the generator that parses for it) are such cycles
too, broken where each is done with the connection (``server/uvicorn_protocols.py``).
Here the real application is served by uvicorn in this process, people join and leave
over real sockets, and what is left of their connections once all are closed is
counted, then the collector's finds.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from support.inprocess import serving_meetwarden

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

OPEN = {"entry": {"waiting_room": {"enabled": False}}}
SOCKET_TYPES = {
    "WebSocketsSansIOProtocol",
    "WebSocketProtocol",
    "ServerProtocol",
    "SocketSlot",
    "FrameWriter",
    "_Writing",
    "Session",
}
"""A connection's own objects: uvicorn's protocol (as uvicorn names it and as meetwarden
extends it) and websockets', the door's slot, the server's frame writer, the socket's
writer and its session."""
PROTOCOL_TYPES = {
    "HttpToolsProtocol",
    "HttpProtocol",
    "WebSocketsSansIOProtocol",
    "WebSocketProtocol",
    "ServerProtocol",
}
"""What serves a connection (uvicorn's protocols, as uvicorn names them and as meetwarden
extends them, and the ``websockets`` protocol): nothing holds them once it is closed."""


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The application on loopback in this process: its address and an operator's key."""
    async with serving_meetwarden(tmp_path) as served:
        yield served


async def _joined(url: str, join: dict[str, Any]) -> tuple[websockets.ClientConnection, str]:
    """A socket admitted to the meeting, and the participant id it was given."""
    socket = await websockets.connect(url, compression=None)
    await socket.send(json.dumps({"type": "join", **join}))
    while (message := json.loads(await socket.recv()))["type"] != "admitted":
        pass
    return socket, message["you"]["participant_id"]


async def _until_gone(host: websockets.ClientConnection, dropped: set[str], left: set[str]) -> None:
    """Reads the host's roster updates until every dropped guest shows as disconnected and
    every guest who left is off the roster: the server has taken each end to the meeting."""
    connected: dict[str, bool] = {}
    removed: set[str] = set()
    while any(connected.get(guest, True) for guest in dropped) or not left <= removed:
        message = json.loads(await host.recv())
        if message["type"] == "roster_update":
            connected.update((entry["id"], entry["connected"]) for entry in message["entries"])
            removed.update(message["removed"])


async def test_people_who_come_and_go_leave_no_socket_for_the_cycle_collector(
    served: tuple[str, str],
) -> None:
    address, key = served
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        answer = await http.post(
            "/api/meetings", json={"policy": OPEN}, headers={"Authorization": f"Bearer {key}"}
        )
    created = answer.json()
    url = f"ws://{address}/ws/meetings/{created['meeting_id']}"
    host, _ = await _joined(url, {"name": "Meeting Chair", "host_token": created["host_token"]})
    gc.collect()
    gc.disable()  # what is left in cycles from here stays for the collection below
    try:
        dropped: set[str] = set()
        left: set[str] = set()
        for number, name in enumerate(("Ana Silva", "Bao Nguyen", "Chen Okafor", "Dara Lund")):
            guest, guest_id = await _joined(url, {"name": name})
            if number % 2:  # a goodbye: the meeting lets go of their place too
                await guest.send(json.dumps({"type": "leave"}))
                await guest.wait_closed()
                left.add(guest_id)
            else:  # no goodbye: a place kept, as for a dropped connection
                await guest.close()
                dropped.add(guest_id)
        async with asyncio.timeout(30):
            await _until_gone(host, dropped, left)
        await host.close()  # returns once the server closed the connection: uvicorn lost it
        remaining = sorted(
            name for o in gc.get_objects() if (name := type(o).__qualname__) in PROTOCOL_TYPES
        )
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        stranded = sorted(
            name for o in gc.garbage if (name := type(o).__qualname__) in SOCKET_TYPES
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert remaining == [], f"closed connections' protocols were still in memory: {remaining}"
    assert stranded == [], f"closed sockets' objects were left in cycles: {stranded}"
