"""A socket's frames written by the server itself (``server/frame_writer.py``), on a real
uvicorn connection: in order, never past a reader that stopped reading, never after
the connection is gone. The uvicorn protocol it writes through is the installed one:
were uvicorn to change it, ``FrameWriter.of`` would find none and these tests fail
(the server would go on, the ASGI way, a join costing more)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from support.inprocess import serving

from meetwarden.server.frame_writer import FrameWriter

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@dataclass
class Served:
    url: str
    writers: asyncio.Queue[FrameWriter | None]
    done: asyncio.Event


@pytest.fixture(params=[False, True], ids=["as-served", "deflate"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    """A bare ASGI WebSocket app under uvicorn (its default protocol) in this loop; each
    accepted socket's writer goes to ``writers``. As meetwarden serves it (no
    permessage-deflate, server/serving.py), and with it: a connection with an extension
    is framed by the library's state machine, frame by frame."""
    writers: asyncio.Queue[FrameWriter | None] = asyncio.Queue()
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        writers.put_nowait(FrameWriter.of(send))
        await done.wait()

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws_per_message_deflate=request.param,
    )
    async with serving(config) as port:
        try:
            yield Served(f"ws://127.0.0.1:{port}/", writers, done)
        finally:
            done.set()


async def _writer(served: Served) -> FrameWriter:
    writer = await asyncio.wait_for(served.writers.get(), 10)
    assert writer is not None, "uvicorn's WebSocket protocol is not the one FrameWriter writes"
    return writer


async def test_frames_sent_in_one_turn_arrive_whole_and_in_order(served: Served) -> None:
    async with websockets.connect(served.url) as client:
        writer = await _writer(served)
        texts = [f'{{"type": "chat", "n": {n}}}' for n in range(50)]
        assert all(writer.send(text) for text in texts)
        assert [await client.recv() for _ in texts] == texts
        assert writer.send("after")  # the next turn writes again
        assert await client.recv() == "after"
        assert writer.send("")  # an empty text is a frame too
        assert await client.recv() == ""


async def test_a_text_sent_to_many_reaches_each_whole_among_others(served: Served) -> None:
    """A broadcast's text is framed once for all its readers: each reads it whole, and
    each reader's own texts around it, of the same length as another's, are their own."""
    async with websockets.connect(served.url) as ana, websockets.connect(served.url) as bao:
        first, second = await _writer(served), await _writer(served)
        roster = '{"type": "roster_update", "entries": []}'
        for turn in range(3):
            mine = [f'{{"type": "result", "ref": {turn}{number}}}' for number in range(2)]
            assert first.send(roster)
            assert first.send(mine[0])
            assert second.send(mine[1])
            assert second.send(roster)
            assert [await ana.recv(), await ana.recv()] == [roster, mine[0]]
            assert [await bao.recv(), await bao.recv()] == [mine[1], roster]
            roster = roster.replace("[]", f'[{{"id": "p{turn}"}}]')  # the next batch


async def _raw_socket(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket opened by hand, read only when the test reads it (asyncio's stream
    stops reading the connection once 128 KiB wait unread)."""
    host, port = url.removeprefix("ws://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return reader, writer


def _most_unread_bytes() -> int:
    """What a connection nobody reads can hold at most: the sender's and the receiver's
    kernel buffers at their largest (tcp(7): the third field of tcp_wmem and tcp_rmem),
    asyncio's buffers on both sides (64 KiB high mark, 128 KiB stream), and 1 MiB to
    spare. Past it the writes were buffered by the server without bound."""

    def largest(name: str) -> int:
        return int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])

    return largest("tcp_wmem") + largest("tcp_rmem") + 2**20


async def test_a_reader_that_stops_reading_is_not_written_to_without_bound(
    served: Served,
) -> None:
    """Its connection stops taking writes (the transport's buffer is past its high mark):
    the caller's outbox then holds the rest, and closes a reader that far behind."""
    reader, client = await _raw_socket(served.url)
    try:
        writer = await _writer(served)
        frame, taken = "x" * 4096, 0
        most = _most_unread_bytes() // len(frame)
        while writer.send(frame):
            taken += 1
            assert taken <= most, f"wrote {taken} frames to a reader that reads nothing"
            await asyncio.sleep(0)  # a turn ends: the flush callback writes what was taken
        framed = b"\x81\x7e\x10\x00" + frame.encode()  # FIN, text, 16-bit length 4096
        for _ in range(taken):
            assert await reader.readexactly(len(framed)) == framed
        assert writer.send("caught up")  # read: the connection takes writes again
        assert await reader.readexactly(11) == b"\x81\x09caught up"
    finally:
        client.close()


async def test_nothing_is_written_once_the_client_has_gone(served: Served) -> None:
    client = await websockets.connect(served.url)
    writer = await _writer(served)
    await client.close()
    assert not writer.send("too late")


def test_an_empty_text_is_framed_even_as_a_process_first_frame() -> None:
    """The last frame kept for a broadcast starts as no text at all: the empty string,
    one object in Python, framed first in a process is a frame, not nothing."""
    check = (
        "from meetwarden.server.frame_writer import FrameWriter\n"
        "assert FrameWriter._frame('') == b'\\x81\\x00', FrameWriter._frame('')\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)
