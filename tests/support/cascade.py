"""Two media nodes in two processes, and real aiortc clients of each, on loopback.

``Node`` starts ``cascade_node.py`` and talks JSON lines to it. A ``Sender`` is a
publisher (synthetic VP8 camera and Opus microphone) and counts the PLIs its video
sender gets. A ``Viewer`` subscribes at one node, answers every renegotiated
offer, decodes what it receives (frames per kind) and counts every RTP packet at
the wire with its arrival time (``counting.WireCounter``). ``Relay`` sits on the
pipe between A and B and drops a share of A's datagrams (a lossy network).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from meetwarden.client_sdk.media import settled
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import intercept_publisher_media

from .counting import Key, WireCounter, until

__all__ = ["Node", "Relay", "Sender", "Viewer", "eventually", "nodes"]

NODE_SCRIPT = Path(__file__).with_name("cascade_node.py")


class Control:
    """One control connection to a node: one request at a time, JSON lines."""

    def __init__(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.name, self.reader, self.writer = name, reader, writer
        self._lock = asyncio.Lock()

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        async with self._lock:
            self.writer.write(json.dumps({"op": op, **fields}).encode() + b"\n")
            await self.writer.drain()
            reply: dict[str, Any] = json.loads(await self.reader.readline())
        if "error" in reply:
            raise RuntimeError(f"node {self.name}: {op}: {reply['error']}")
        return reply

    def close(self) -> None:
        self.writer.close()


class Node:
    """A cascade node process and its control socket."""

    def __init__(self, directory: Path, name: str, extra: list[str] | None = None) -> None:
        self.name = name
        self.socket = str(directory / f"{name}.sock")
        self.process = subprocess.Popen(
            [sys.executable, str(NODE_SCRIPT), "--socket", self.socket, *(extra or [])],
            stdout=subprocess.PIPE,
            text=True,
        )
        self._control: Control | None = None
        self._channels: list[Control] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    async def start(self) -> Node:
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"node {self.name} did not start: {line!r}")
        self._control = await self.channel()
        return self

    async def channel(self) -> Control:
        """Another control connection (a request that waits, such as next_offer, on its own)."""
        control = Control(self.name, *await asyncio.open_unix_connection(self.socket))
        self._channels.append(control)
        return control

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self._control is not None
        return await self._control.call(op, **fields)

    async def stop(self) -> None:
        if self._control is not None:
            with contextlib.suppress(Exception):
                await self.call("quit")
        for channel in self._channels:
            channel.close()
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 20) -> None:
    """Waits until ``await check()`` holds (a node's counters, asked over its socket)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)  # polling: the node's counters raise no events


def _pc() -> RTCPeerConnection:
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


class Sender:
    """A publisher of a synthetic camera and microphone; counts PLIs its camera gets."""

    def __init__(self, participant: str, width: int = 320, height: int = 240) -> None:
        self.participant = participant
        self.pc = _pc()
        self.camera = SyntheticVideoTrack(width, height, 30)
        self.video = self.pc.addTransceiver(self.camera, direction="sendonly")
        self.audio = self.pc.addTransceiver(SyntheticAudioTrack(), direction="sendonly")
        self.plis = 0
        sender = self.video.sender
        original = sender._handle_rtcp_packet

        async def counted(packet: Any) -> None:
            if type(packet).__name__ == "RtcpPsfbPacket" and packet.fmt == 1:
                self.plis += 1
            await original(packet)

        sender._handle_rtcp_packet = counted

    async def publish(self, node: Node) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sources = {self.video.mid: "camera", self.audio.mid: "microphone"}
        reply = await node.call(
            "publish", participant=self.participant, sdp=self.pc.localDescription.sdp,
            sources=sources,
        )  # fmt: skip
        await self.pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))

    async def close(self) -> None:
        await settled(self.pc)
        await self.pc.close()


class Viewer:
    """A subscriber at one node: decodes, counts at the wire, answers renegotiations.

    ``decode`` False counts at the wire only: aiortc's receivers never see a packet
    (and so send no receiver reports or NACKs)."""

    def __init__(self, participant: str, decode: bool = True) -> None:
        self.participant = participant
        self.pc = _pc()
        self.wire = WireCounter()
        self.arrivals: dict[Key, list[float]] = {}
        self.last_sequence: dict[Key, tuple[int, int]] = {}  # (SSRC, sequence number)
        self.frames: Counter[str] = Counter()
        self.receivers: dict[Key, Any] = {}
        self._decode = decode
        self._intercepted: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = self.wire.count
        self.wire.count = self._timed  # type: ignore[method-assign]
        if decode:
            self.pc.on("track", self._consume)

    def _timed(self, data: bytes) -> None:
        if len(data) >= 12:
            ssrc = int.from_bytes(data[8:12], "big")
            key = self.wire._by_ssrc.get(ssrc)
            if key is not None:
                self.arrivals.setdefault(key, []).append(time.monotonic())
                self.last_sequence[key] = (ssrc, int.from_bytes(data[2:4], "big"))
        self._count(data)

    def _consume(self, track: Any) -> None:
        async def run() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    self.frames[track.kind] += 1

        task = asyncio.ensure_future(run())
        self._tasks.add(task)

    async def _apply(self, node: Node, offer: dict[str, Any]) -> None:
        tracks = [(mid, participant, source) for mid, participant, source, _ in offer["tracks"]]
        self.wire.learn_offer(offer["sdp"], tracks)
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        if self._decode:
            self.wire.attach(self.pc)
        else:  # counted, never handed to aiortc's receivers: a light client for the bench
            for transceiver in self.pc.getTransceivers():
                dtls = transceiver.receiver.transport
                if dtls is not None and id(dtls) not in self._intercepted:
                    self._intercepted.add(id(dtls))
                    intercept_publisher_media(dtls, self._timed, lambda *_: None)
        for transceiver in self.pc.getTransceivers():
            for mid, participant, source in tracks:
                if transceiver.mid == mid:
                    self.receivers[(participant, source)] = transceiver.receiver
        await node.call("answer", participant=self.participant, sdp=self.pc.localDescription.sdp)

    async def subscribe(self, node: Node) -> None:
        """Subscribe, then answer every renegotiated offer until closed."""
        await self._apply(node, await node.call("subscribe", participant=self.participant))

        channel = await node.channel()

        async def follow() -> None:
            while True:
                with contextlib.suppress(RuntimeError):  # none within the wait: ask again
                    offer = await channel.call("next_offer", participant=self.participant, within=5)
                    # aiortc starts the receivers of an offer's m-lines only if its DTLS is
                    # "connected" or "new" then (rtcpeerconnection.py __connect): one applied
                    # during the handshake would never receive.
                    await until(lambda: self.pc.connectionState == "connected", what="connected")
                    await self._apply(node, offer)

        task = asyncio.ensure_future(follow())
        self._tasks.add(task)

    def packets(self, key: Key) -> int:
        return self.wire.packets[key]

    def after(self, key: Key, instant: float) -> int:
        """Packets of ``key`` that arrived after ``instant`` (time.monotonic)."""
        return sum(1 for at in self.arrivals.get(key, []) if at > instant)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await settled(self.pc)
        await self.pc.close()


class Relay(asyncio.DatagramProtocol):
    """A UDP hop between A and B: A's datagrams to B, each dropped with ``loss``; B's back."""

    def __init__(self, b_address: tuple[str, int], loss: float, seed: int = 7) -> None:
        self.b = b_address
        self.a: tuple[str, int] | None = None
        self.loss = loss
        self.dropped = 0
        self.sent: list[bytes] = []
        self._random = random.Random(seed)
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        address: tuple[str, int] = transport.get_extra_info("sockname")[:2]
        return address

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self._transport is not None
        if addr == self.b:
            if self.a is not None:
                self._transport.sendto(data, self.a)
            return
        self.a = addr
        if data[0] == 1 and self._random.random() < self.loss:  # media only (pipe_wire.MEDIA)
            self.dropped += 1
            return
        self.sent.append(data)
        del self.sent[:-100]
        self._transport.sendto(data, self.b)

    def inject(self, data: bytes) -> None:
        """A datagram to B from this relay's address, the one B latched as A's."""
        assert self._transport is not None
        self._transport.sendto(data, self.b)

    def replay(self, count: int) -> None:
        """Send B again the last ``count`` datagrams A sent through here."""
        for data in self.sent[-count:]:
            self.inject(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    """Nodes A and B, each a media plane in its own process (import it into a test module)."""
    a, b = Node(tmp_path, "a"), Node(tmp_path, "b")
    try:
        await a.start()
        await b.start()
        yield a, b
    finally:
        await a.stop()
        await b.stop()
