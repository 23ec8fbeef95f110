"""Loopback aiortc peers for the media plane's tests: real ICE, DTLS, SRTP, VP8 and Opus.

Every connection stays on 127.0.0.1 (the plane restricts aioice's host
addresses process-wide; clients use ``iceServers=[]``). Tests wait on
conditions with a deadline (``until``), never on a bare sleep.

A ``Meeting`` is one MediaRoom and the clients a test drives in it; a ``MediaServer``
is one MediaPlane holding several meetings, as one server process does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiortc.codecs.vpx
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from meetwarden.client_sdk.media import settled
from meetwarden.client_sdk.synthetic import read_frame_number
from meetwarden.server.media import (
    CameraCheck,
    MediaPlane,
    MediaRoom,
    Observation,
    Source,
    SubscriberOffer,
)
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate

TIMEOUT = 20.0


QUIET_CAMERA_CHECK = CameraCheck(report_interval=3600.0, probe_interval=3600.0)
"""No camera probes or reports during a test that measures a link: only the stream."""
LINK_TEST_SIZE = (320, 240)
"""The camera's size in the tests that measure a link against it (with the fixture below)."""


@pytest.fixture
def camera_at_500_kbits() -> Iterator[None]:
    """aiortc's VP8 encoder at 500 kbit/s whatever the REMB says (restored afterwards):
    a test module that measures a link against the camera asks for it in ``pytestmark``."""
    vpx: Any = aiortc.codecs.vpx
    saved = vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE
    pin_vp8_bitrate(500_000)
    yield
    vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE = saved


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio through anyio's pytest plugin."""
    return "asyncio"


async def until(
    condition: Callable[[], bool], within: float = 10.0, what: str | Callable[[], str] = ""
) -> None:
    """Wait until ``condition()`` holds; fail the test after ``within`` seconds. ``what``
    may be a function: then it says, at the failure, what was seen instead."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out after {within} s waiting for {said or condition}")
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

    def __init__(self, room: MediaRoom, participant_id: str) -> None:
        self.room = room
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
        answer = await self.room.publish(self.id, offer, sources or self.sources())
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def connected(self) -> None:
        await until(lambda: self.pc.connectionState == "connected", what="publisher connected")

    async def close(self) -> None:
        await settled(self.pc)
        await self.pc.close()


class Subscriber:
    """A client's subscribing connection; counts what each track delivers."""

    def __init__(self, room: MediaRoom, participant_id: str) -> None:
        self.room = room
        self.id = participant_id
        # max-bundle, as the SDK and the browser client use: under aiortc's default
        # (balanced), an answerer given a first offer with two m-lines of one kind leaves
        # the second on a transport that never connects (rtcpeerconnection.py
        # __createTransceiver marks it bundled, so the BUNDLE pass skips it), and its
        # packets are routed by payload type to the first m-line of that kind.
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.offers: asyncio.Queue[SubscriberOffer] = asyncio.Queue()
        self.offered: list[SubscriberOffer] = []  # every offer applied, first and renegotiated
        self.tracks: dict[str, tuple[str, Source]] = {}  # mid -> (participant, source)
        self.received: dict[tuple[str, Source], Received] = {}
        self.answered = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    async def subscribe(self) -> None:
        await self.apply(await self.room.subscribe(self.id))
        self._tasks.append(asyncio.create_task(self._renegotiations()))

    async def apply(self, offer: SubscriberOffer) -> None:
        self.offered.append(offer)
        for track in offer.tracks:
            self.tracks[track.mid] = (track.participant_id, track.source)
        await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.room.subscriber_answer(self.id, self.pc.localDescription.sdp)
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
        for mid, count in (await self.packets_by_mid()).items():
            if self.tracks.get(mid) == (participant_id, source):
                total += count
        return total

    async def packets_by_mid(self) -> dict[str, int]:
        """RTP packets received on every m-line, whoever an offer said it carries."""
        counts: dict[str, int] = {}
        for transceiver in self.pc.getTransceivers():
            for stats in (await transceiver.receiver.getStats()).values():
                if stats.type == "inbound-rtp":
                    mid = transceiver.mid or ""
                    counts[mid] = counts.get(mid, 0) + stats.packetsReceived
        return counts

    def named(self) -> set[str]:
        """Every participant any offer to this subscriber named."""
        return {track.participant_id for offer in self.offered for track in offer.tracks}

    async def connected(self) -> None:
        await until(lambda: self.pc.connectionState == "connected", what="subscriber connected")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await settled(self.pc)
        await self.pc.close()


async def settled_packets(subscriber: Subscriber, participant_id: str, source: Source) -> int:
    """The subscriber's packet count once packets already in flight have arrived."""
    previous = -1
    count = await subscriber.packets(participant_id, source)
    while count != previous:
        previous = count
        await asyncio.sleep(0.05)  # no event says "nothing more in flight": wait for quiet
        count = await subscriber.packets(participant_id, source)
    return count


class Meeting:
    """A MediaRoom plus the clients a test creates in it; closes everything at the end.

    The room is made on ``plane`` if given (several meetings on one server), else on
    a plane of its own made with ``camera_check`` and ``plane_options``.
    """

    def __init__(
        self,
        camera_check: CameraCheck | None = None,
        *,
        plane: MediaPlane | None = None,
        room_id: str = "meeting",
        **plane_options: Any,
    ) -> None:
        self.observations: list[Observation] = []
        self.subscribers: dict[str, Subscriber] = {}
        self.own_plane = plane is None
        if plane is None:
            plane = MediaPlane(camera_check=camera_check, **plane_options)
        self.plane = plane
        self.room = plane.room(
            room_id, on_observation=self.observations.append, on_subscriber_offer=self._offer
        )
        self.clients: list[Publisher | Subscriber] = []

    def _offer(self, participant_id: str, offer: SubscriberOffer) -> None:
        self.subscribers[participant_id].offers.put_nowait(offer)

    def admit(self, *participant_ids: str) -> None:
        """What the meeting runtime does once the policy admits someone."""
        for participant_id in participant_ids:
            self.room.admit(participant_id)

    def publisher(self, participant_id: str) -> Publisher:
        """An admitted participant's publishing client (not yet offering)."""
        self.admit(participant_id)
        client = Publisher(self.room, participant_id)
        self.clients.append(client)
        return client

    async def subscriber(self, participant_id: str) -> Subscriber:
        """An admitted participant's subscribing client, subscribed and answering offers."""
        self.admit(participant_id)
        client = Subscriber(self.room, participant_id)
        self.clients.append(client)
        self.subscribers[participant_id] = client
        await client.subscribe()
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.room.close()
        if self.own_plane:
            await self.plane.close()


class MediaServer:
    """One MediaPlane holding several meetings, as one server process does."""

    def __init__(self, **plane_options: Any) -> None:
        self.plane = MediaPlane(**plane_options)
        self.meetings: list[Meeting] = []

    def meeting(self, room_id: str) -> Meeting:
        meeting = Meeting(plane=self.plane, room_id=room_id)
        self.meetings.append(meeting)
        return meeting

    async def close(self) -> None:
        for meeting in self.meetings:
            await meeting.close()
        await self.plane.close()


@pytest.fixture
async def meeting() -> AsyncIterator[Meeting]:
    room = Meeting()
    yield room
    await asyncio.wait_for(room.close(), TIMEOUT)


@pytest.fixture
async def media_server() -> AsyncIterator[MediaServer]:
    """One plane for several meetings; every meeting and the plane are closed at the end."""
    media_server = MediaServer()
    yield media_server
    await asyncio.wait_for(media_server.close(), TIMEOUT)


@pytest.fixture
def make_meeting() -> Callable[..., Meeting]:
    """A Meeting with plane options (camera check, keyframe interval ...); closed by the test."""
    return Meeting
