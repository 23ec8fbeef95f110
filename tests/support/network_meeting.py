"""A meeting over an impaired network: one publisher, several viewers, one link impaired.

Used by the media tests (the server's ``MediaRoom`` in the test's process,
``RoomEndpoint``) and by ``bench/media_network.py`` (the server in a process
of its own, driven over bench/media_server.py's control socket): anything
with ``publish``, ``subscribe`` and ``answer`` (``MediaEndpoint``) will do.

The publisher is an aiortc peer sending ``SyntheticVideoTrack`` (VP8), and with
``audio`` a ``SyntheticAudioTrack`` (Opus) too; each viewer is an aiortc peer
that decodes them and keeps a ``FrameLog`` (and the size of each frame, and when
each audio frame was decoded). The link of
the publisher, or of the first viewer, goes through an ``ImpairedLink``
(``impair.py``); the others are direct. The impairment starts with the
measuring window (``run``), so that connecting is not what is measured; a
burst (everything dropped both ways) or a path change comes a third into it.

Taps for tests that count at the wire: ``Publisher.sent`` (the payload of each
RTP packet the publisher's camera sent first-hand, by sequence number, before
SRTP), ``Publisher.nacked``, ``keyframe_requests`` and ``remb`` (the feedback
the server sent it) and ``Viewer.payloads`` (the payload of every RTP packet that reached
a viewer, after SRTP, before aiortc's receiver).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    unpack_remb_fci,
)

from meetwarden.client_sdk.media import settled
from meetwarden.client_sdk.synthetic import (
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    read_frame_number,
)

from .frame_log import DecodeErrors, FrameLog, ViewerFigures, figures
from .impair import CLEAR, ImpairedLink, Impairment, is_rtcp

__all__ = [
    "Arrival",
    "MediaEndpoint",
    "NetworkMeeting",
    "Publisher",
    "RoomEndpoint",
    "Scenario",
    "Viewer",
    "rtp_payload",
]

Where = Literal["publisher", "subscriber", "none"]


class MediaEndpoint(Protocol):
    """The server as a client sees it: a publishing offer answered, a subscribing offer."""

    async def publish(self, participant: str, sdp: str, sources: Mapping[str, str]) -> str: ...

    async def subscribe(self, participant: str) -> str: ...

    async def answer(self, participant: str, sdp: str) -> None: ...


class RoomEndpoint:
    """A ``MediaRoom`` of this process, driven as the meeting runtime would: everyone who
    publishes or subscribes is admitted, and every published source's gate is open."""

    def __init__(self, room: Any) -> None:
        self.room = room

    async def publish(self, participant: str, sdp: str, sources: Mapping[str, str]) -> str:
        self.room.admit(participant)
        for source in sources.values():
            self.room.set_gate(participant, source, True)
        answer: str = await self.room.publish(participant, sdp, dict(sources))
        return answer

    async def subscribe(self, participant: str) -> str:
        self.room.admit(participant)
        sdp: str = (await self.room.subscribe(participant)).sdp
        return sdp

    async def answer(self, participant: str, sdp: str) -> None:
        await self.room.subscriber_answer(participant, sdp)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Which link is impaired, and how (``up``: from that client to the server)."""

    name: str
    impaired: Where = "publisher"
    up: Impairment = CLEAR
    down: Impairment = CLEAR
    burst: float = 0.0
    """Seconds of a blackout (both ways) a third into the window; 0 for none."""
    path_change: bool = False
    """A third into the window the client's datagrams come from a new port, and the old
    one is closed (``ImpairedLink.change_path``)."""


def rtp_payload(data: bytes) -> tuple[int, int, bytes] | None:
    """(SSRC, sequence number, payload) of an RTP packet in clear (RFC 3550 5.1), skipping
    CSRCs and header extensions, as the server forwards the payload alone."""
    if len(data) < 12 or data[0] >> 6 != 2 or is_rtcp(data):
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 else 0)
    return int.from_bytes(data[8:12], "big"), int.from_bytes(data[2:4], "big"), data[offset:end]


def _configuration() -> RTCConfiguration:
    # max-bundle, as the SDK and the browser client use (tests/media/conftest.py says why).
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


@dataclass
class Publisher:
    """The publishing peer: one camera."""

    pc: RTCPeerConnection
    camera: SyntheticVideoTrack
    link: ImpairedLink | None
    ssrc: int = 0
    rtx_ssrc: int = 0
    sent: dict[int, bytes] = field(default_factory=dict)
    """Payload of each camera packet sent first-hand, by sequence number (``record``)."""
    record: bool = False
    nacked: list[int] = field(default_factory=list)
    """Every sequence number a NACK from the server asked for, in order."""
    keyframe_requests: list[float] = field(default_factory=list)
    """When each PLI or FIR from the server arrived."""
    remb: list[int] = field(default_factory=list)
    """Every REMB bitrate the server sent it, in order."""

    def tap(self) -> None:
        """Keep ``sent``, ``nacked`` and ``keyframe_requests`` from now on (the transport
        exists once the answer is applied)."""
        sender = self.pc.getTransceivers()[0].sender
        self.ssrc, self.rtx_ssrc = sender._ssrc, sender._rtx_ssrc
        handle = sender._handle_rtcp_packet

        async def heard(packet: Any) -> None:
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                self.nacked.extend(packet.lost)
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (
                RTCP_PSFB_PLI,
                RTCP_PSFB_FIR,
            ):
                self.keyframe_requests.append(time.monotonic())
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                self.remb.append(unpack_remb_fci(packet.fci)[0])
            await handle(packet)

        sender._handle_rtcp_packet = heard
        dtls = sender.transport
        original = dtls._send_rtp

        async def recorded(data: bytes) -> None:
            if self.record:
                found = rtp_payload(data)
                if found is not None and found[0] == self.ssrc:
                    self.sent[found[1]] = found[2]
            await original(data)

        dtls._send_rtp = recorded


class Arrival(NamedTuple):
    """An RTP packet that reached a viewer: when (monotonic), and its header's fields."""

    at: float
    ssrc: int
    sequence: int
    timestamp: int


@dataclass
class Viewer:
    """A subscribing peer that decodes the camera and logs what it sees."""

    name: str
    pc: RTCPeerConnection
    link: ImpairedLink | None
    log: FrameLog
    payloads: set[bytes] = field(default_factory=set)
    """Payload of every RTP packet that reached it (``record``)."""
    record: bool = False
    task: asyncio.Task[None] | None = None
    sizes: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(width, height) of every frame decoded, counted."""
    audio_times: list[float] = field(default_factory=list)
    """When each audio frame was decoded (monotonic)."""
    audio_task: asyncio.Task[None] | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    """Every RTP packet that reached it (``record``)."""

    def ssrc_of(self, kind: str) -> int:
        """The SSRC the server sends this viewer's ``kind`` ("audio", "video") on, from the
        first ``a=ssrc`` line of that m-line in the server's offer."""
        sdp = self.pc.remoteDescription.sdp
        section = sdp[sdp.index(f"m={kind}") :]
        line = next(line for line in section.splitlines() if line.startswith("a=ssrc:"))
        return int(line.split()[0].split(":")[1])

    def decoder_thread(self) -> int | None:
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "video":
                thread = getattr(transceiver.receiver, "_RTCRtpReceiver__decoder_thread", None)
                return None if thread is None else thread.ident
        return None

    def tap(self) -> None:
        dtls = self.pc.getTransceivers()[0].receiver.transport
        original = dtls._handle_rtp_data

        async def recorded(data: bytes, arrival_time_ms: int) -> None:
            if self.record:
                found = rtp_payload(data)
                if found is not None:
                    self.payloads.add(found[2])
                    timestamp = int.from_bytes(data[4:8], "big")
                    self.arrivals.append(Arrival(time.monotonic(), *found[:2], timestamp))
            await original(data, arrival_time_ms)

        dtls._handle_rtp_data = recorded

    async def consume(self, track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "audio":
                    self.audio_times.append(time.monotonic())
                    continue
                self.log.decoded(read_frame_number(frame))
                self.sizes[(frame.width, frame.height)] += 1
        except MediaStreamError:
            pass


class NetworkMeeting:
    """One publisher and ``viewers`` subscribers on ``endpoint``; one link impaired."""

    def __init__(
        self,
        endpoint: MediaEndpoint,
        scenario: Scenario,
        *,
        viewers: int = 3,
        size: tuple[int, int] = (320, 240),
        fps: int = 30,
        seed: int = 1,
        audio: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.audio = audio
        self.scenario = scenario
        self.seed = seed
        self.size, self.fps = size, fps
        self.viewer_count = viewers
        self.publisher: Publisher | None = None
        self.viewers: list[Viewer] = []
        self.decode_errors = DecodeErrors(
            lambda: [(viewer.log, viewer.decoder_thread()) for viewer in self.viewers]
        )
        self.window: tuple[float, float] | None = None
        self.burst: tuple[float, float] | None = None

    @property
    def link(self) -> ImpairedLink:
        """The impaired link."""
        if self.scenario.impaired == "publisher":
            assert self.publisher is not None
            assert self.publisher.link is not None
            return self.publisher.link
        assert self.viewers
        assert self.viewers[0].link is not None
        return self.viewers[0].link

    async def _relay(self, impaired: bool) -> ImpairedLink | None:
        if not impaired:
            return None
        return await ImpairedLink(seed=self.seed).start()

    async def start(self, within: float = 30.0) -> NetworkMeeting:
        """Publish, subscribe everyone, and wait until every viewer decodes the camera."""
        self.decode_errors.__enter__()
        camera = SyntheticVideoTrack(*self.size, self.fps)
        pc = RTCPeerConnection(_configuration())
        transceiver = pc.addTransceiver(camera, direction="sendonly")
        if self.audio:
            microphone = pc.addTransceiver(SyntheticAudioTrack(), direction="sendonly")
        link = await self._relay(self.scenario.impaired == "publisher")
        self.publisher = Publisher(pc, camera, link)
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        assert transceiver.mid is not None
        sources = {transceiver.mid: "camera"}
        if self.audio:
            assert microphone.mid is not None
            sources[microphone.mid] = "microphone"
        answer = await self.endpoint.publish(
            "publisher", link.through_server(offer) if link else offer, sources
        )
        await pc.setRemoteDescription(
            RTCSessionDescription(link.through_client(answer) if link else answer, "answer")
        )
        self.publisher.tap()
        for index in range(self.viewer_count):
            impaired = index == 0 and self.scenario.impaired == "subscriber"
            self.viewers.append(await self._viewer(f"viewer-{index}", impaired))
        deadline = time.monotonic() + within
        while not all(len(viewer.log.times) >= 10 for viewer in self.viewers):
            if time.monotonic() > deadline:
                raise TimeoutError("not every viewer decodes the camera")
            await asyncio.sleep(0.05)  # polling: aiortc raises no event for a decoded frame
        return self

    async def _viewer(self, name: str, impaired: bool) -> Viewer:
        link = await self._relay(impaired)
        pc = RTCPeerConnection(_configuration())
        viewer = Viewer(name, pc, link, FrameLog(name))

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "video":
                viewer.task = asyncio.create_task(viewer.consume(track))
            else:
                viewer.audio_task = asyncio.create_task(viewer.consume(track))

        offer = await self.endpoint.subscribe(name)
        await pc.setRemoteDescription(
            RTCSessionDescription(link.through_client(offer) if link else offer, "offer")
        )
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription.sdp
        await self.endpoint.answer(name, link.through_server(answer) if link else answer)
        viewer.tap()
        return viewer

    async def run(self, seconds: float) -> list[ViewerFigures]:
        """Impair the link for ``seconds`` (a burst a third in), then every viewer's figures."""
        start = time.monotonic()
        if self.scenario.impaired != "none":
            self.link.set(self.scenario.up, self.scenario.down)
        burst_end = None
        if self.scenario.burst or self.scenario.path_change:
            await asyncio.sleep(seconds / 3)  # the event's place in the window
        if self.scenario.burst:
            _, burst_end = self.link.blackout(self.scenario.burst)
            self.burst = (burst_end - self.scenario.burst, burst_end)
        if self.scenario.path_change:
            await self.link.change_path(close_old=True)
            burst_end = time.monotonic()  # recovery counts from the change
        await asyncio.sleep(start + seconds - time.monotonic())  # the window itself
        end = time.monotonic()
        if self.scenario.impaired != "none":
            self.link.set(CLEAR, CLEAR)
        self.window = (start, end)
        return [figures(viewer.log, start, end, burst_end) for viewer in self.viewers]

    async def close(self) -> None:
        for viewer in self.viewers:
            for task in (viewer.task, viewer.audio_task):
                if task is not None:
                    task.cancel()
            await settled(viewer.pc)
            await viewer.pc.close()
            if viewer.link is not None:
                viewer.link.close()
        if self.publisher is not None:
            await self.publisher.pc.close()
            if self.publisher.link is not None:
                self.publisher.link.close()
        self.decode_errors.__exit__()
