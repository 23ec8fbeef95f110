"""Loopback aiortc peers for the media plane's tests: real ICE, DTLS, SRTP, VP8 and Opus.

Every connection stays on 127.0.0.1 (the plane restricts aioice's host
addresses process-wide; clients use ``iceServers=[]``). Tests wait on
conditions with a deadline (``until``), never on a bare sleep.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from meetwarden.client_sdk.synthetic import read_frame_number
from meetwarden.server.media import (
    CameraCheck,
    MediaPlane,
    Observation,
    Source,
    SubscriberOffer,
)

TIMEOUT = 20.0


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio through anyio's pytest plugin."""
    return "asyncio"


async def until(condition: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    """Wait until ``condition()`` holds; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or condition}")
        await asyncio.sleep(0.01)  # polling: aiortc's state and counters raise no events


class DecodeErrors(logging.Handler):
    """Counts aiortc's "failed to decode" warnings (rtcrtpreceiver.decoder_worker)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1


@pytest.fixture
def decode_errors() -> Any:
    handler = DecodeErrors()
    logger = logging.getLogger("aiortc.rtcrtpreceiver")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@dataclass
class Received:
    """What a subscriber got on one track."""

    kind: str
    frames: int = 0
    sizes: set[tuple[int, int]] = field(default_factory=set)
    numbers: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)


class Publisher:
    """A client's publishing connection, with one transceiver per source."""

    def __init__(self, plane: MediaPlane, participant_id: str) -> None:
        self.plane = plane
        self.id = participant_id
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.transceivers: dict[Source, RTCRtpTransceiver] = {}

    def add(self, source: Source, track: MediaStreamTrack) -> RTCRtpTransceiver:
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        self.transceivers[source] = transceiver
        return transceiver

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    def sources(self) -> dict[str, Source]:
        return {t.mid: s for s, t in self.transceivers.items() if t.mid is not None}

    async def publish(self, sources: Mapping[str, Source] | None = None) -> None:
        offer = await self.offer()
        answer = await self.plane.publish(self.id, offer, sources or self.sources())
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def connected(self) -> None:
        await until(lambda: self.pc.connectionState == "connected", what="publisher connected")

    async def close(self) -> None:
        await self.pc.close()


class Subscriber:
    """A client's subscribing connection; counts what each track delivers."""

    def __init__(self, plane: MediaPlane, participant_id: str) -> None:
        self.plane = plane
        self.id = participant_id
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.offers: asyncio.Queue[SubscriberOffer] = asyncio.Queue()
        self.tracks: dict[str, tuple[str, Source]] = {}  # mid -> (participant, source)
        self.received: dict[tuple[str, Source], Received] = {}
        self.answered = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    async def subscribe(self) -> None:
        await self.apply(await self.plane.subscribe(self.id))
        self._tasks.append(asyncio.create_task(self._renegotiations()))

    async def apply(self, offer: SubscriberOffer) -> None:
        for track in offer.tracks:
            self.tracks[track.mid] = (track.participant_id, track.source)
        await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.plane.subscriber_answer(self.id, self.pc.localDescription.sdp)
        self.answered += 1

    async def _renegotiations(self) -> None:
        while True:
            await self.apply(await self.offers.get())

    def _on_track(self, track: MediaStreamTrack) -> None:
        for transceiver in self.pc.getTransceivers():
            if transceiver.receiver.track is track and transceiver.mid in self.tracks:
                key = self.tracks[transceiver.mid]
                received = self.received.setdefault(key, Received(track.kind))
                self._tasks.append(asyncio.create_task(self._consume(track, received)))

    async def _consume(self, track: MediaStreamTrack, received: Received) -> None:
        try:
            while True:
                frame = await track.recv()
                received.frames += 1
                received.arrivals.append(time.monotonic())
                if track.kind == "video":
                    received.sizes.add((frame.width, frame.height))
                    received.numbers.append(read_frame_number(frame))
        except MediaStreamError:
            pass

    def got(self, participant_id: str, source: Source) -> Received:
        return self.received.setdefault((participant_id, source), Received(""))

    async def packets(self, participant_id: str, source: Source) -> int:
        """RTP packets received on that track's m-line (aiortc's inbound-rtp stats)."""
        total = 0
        for transceiver in self.pc.getTransceivers():
            if self.tracks.get(transceiver.mid or "") == (participant_id, source):
                for stats in (await transceiver.receiver.getStats()).values():
                    if stats.type == "inbound-rtp":
                        total += stats.packetsReceived
        return total

    async def connected(self) -> None:
        await until(lambda: self.pc.connectionState == "connected", what="subscriber connected")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


class Meeting:
    """A MediaPlane plus the clients a test creates; closes everything at the end."""

    def __init__(self, camera_check: CameraCheck | None = None, **plane_options: Any) -> None:
        self.observations: list[Observation] = []
        self.subscribers: dict[str, Subscriber] = {}
        self.plane = MediaPlane(
            on_observation=self.observations.append,
            on_subscriber_offer=self._offer,
            camera_check=camera_check,
            **plane_options,
        )
        self.clients: list[Publisher | Subscriber] = []

    def _offer(self, participant_id: str, offer: SubscriberOffer) -> None:
        self.subscribers[participant_id].offers.put_nowait(offer)

    def publisher(self, participant_id: str) -> Publisher:
        client = Publisher(self.plane, participant_id)
        self.clients.append(client)
        return client

    async def subscriber(self, participant_id: str) -> Subscriber:
        client = Subscriber(self.plane, participant_id)
        self.clients.append(client)
        self.subscribers[participant_id] = client
        await client.subscribe()
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.plane.close()


@pytest.fixture
async def meeting() -> AsyncIterator[Meeting]:
    room = Meeting()
    yield room
    await asyncio.wait_for(room.close(), TIMEOUT)


@pytest.fixture
def make_meeting() -> Callable[..., Meeting]:
    """A Meeting with plane options (camera check, keyframe interval ...); closed by the test."""
    return Meeting
