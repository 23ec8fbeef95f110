"""A simulcast camera to a subscriber whose link cannot take its large layer: lowered, not paused.

Real ``SimulcastTrack`` (two layers, ``PublishedTrack`` each), ``DownTrack`` and
``SubscriberBandwidth`` objects; the test plays the publisher (a second of
packets into each layer), the subscriber (its receiver reports) and the room's
tick, on a clock the test turns. The large layer takes 1 Mbit/s, the small one
150 kbit/s: once loss shows, the subscriber is moved to the small layer, and
its video is not paused while it waits for the small layer's keyframe, nor
after the switch, when what the large layer took no longer says anything.
"""

from __future__ import annotations

import struct

import pytest

from meetwarden.server.media.forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.rtp_packets import RtpFields
from meetwarden.server.media.simulcast import SimulcastTrack
from meetwarden.server.media.subscriber_bandwidth import HEADER_OCTETS, SubscriberBandwidth

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Sink:
    def send_rtp(self, packet: bytes) -> bool:
        return True


class Sender:
    def __init__(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self.octets = 0

    def count(self, octets: int) -> None:
        self.octets += octets

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        pass


SIZES = {"q": (320, 180), "f": (1280, 720)}
PACKETS = {"q": 15, "f": 100}  # 1,250 octets each on the wire: 150 kbit/s and 1 Mbit/s


class Meeting:
    def __init__(self) -> None:
        self.now = 100.0
        self.gate = Gate(open=True)
        self.bandwidth = SubscriberBandwidth()
        self.camera = SimulcastTrack(
            "alice", "camera", self.gate, 97, 0.0, 300, lambda t: None, ("q", "f"),
            bandwidth=lambda _: self.bandwidth.video_share(self.forwarded),
        )  # fmt: skip
        self.microphone = PublishedTrack(
            "alice", "microphone", "audio", self.gate, 111,
            KeyframeRequester(lambda: True, 0.0), 300, lambda t: None,
        )  # fmt: skip
        self.seq = {"q": 0, "f": 30_000, "audio": 0}
        for rid in ("q", "f"):
            layer = PublishedTrack(
                "alice", "camera", "video", self.gate, 97,
                KeyframeRequester(lambda: True, 0.0), 300, self.camera.layer_first_packet,
            )  # fmt: skip
            self.camera.add_layer(rid, layer)
        self.video = DownTrack("bob", Sink(), Sender(1), 97, True)  # type: ignore[arg-type]
        self.audio = DownTrack("bob", Sink(), Sender(2), 111, False)  # type: ignore[arg-type]
        self.second(keyframes=("q", "f"))
        self.camera.add_down(self.video)
        self.microphone.add_down(self.audio)
        self.received = {1: 0, 2: 0}
        self.lost = {1: 0, 2: 0}

    @property
    def forwarded(self) -> list[tuple[PublishedTrack, DownTrack]]:
        return [(self.camera, self.video), (self.microphone, self.audio)]

    def _send(self, rid: str, keyframe: bool) -> None:
        for index in range(PACKETS[rid]):
            self.seq[rid] += 1
            if keyframe and index == 0:
                start = b"\x10\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", *SIZES[rid])
            else:
                start = b"\x10\x11\x02\x00"
            body = start + bytes(1250 - len(start) - HEADER_OCTETS)
            ssrc = 10 if rid == "q" else 20
            seq = self.seq[rid]
            self.camera.layers[rid].on_rtp(
                RtpFields(ssrc, 97, seq & 0xFFFF, 3000 * seq, True, False, body)
            )

    def second(self, loss: float = 0.0, keyframes: tuple[str, ...] = ()) -> None:
        """A second of both layers and the microphone; then Bob's reports (``loss`` of
        what was sent him lost) and the room's tick."""
        before = {1: self.video.packets, 2: self.audio.packets}
        for rid in ("q", "f"):
            self._send(rid, rid in keyframes)
        for _ in range(50):
            self.seq["audio"] += 1
            n = self.seq["audio"]
            self.microphone.on_rtp(RtpFields(3, 111, n, 960 * n, True, False, bytes(100)))
        if not hasattr(self, "received"):
            return
        self.now += 1.0
        for ssrc, down in ((1, self.video), (2, self.audio)):
            sent = down.packets - before[ssrc]
            self.received[ssrc] += sent
            self.lost[ssrc] += round(sent * loss)
        self.bandwidth.estimate.on_report_block(2, 1000 + self.received[2], self.lost[2])
        self.bandwidth.on_report(
            self.video, 1000 + self.received[1], self.lost[1], self.now, self.forwarded
        )
        self.camera.tick()


async def test_a_link_short_of_the_large_layer_gets_the_small_one_and_is_never_paused() -> None:
    bob = Meeting()
    assert bob.camera.layer_of(bob.video) == "f", "no limit known: the full picture"
    bob.second()
    bob.second()
    bob.second(loss=0.5)  # 1 Mbit/s and more sent, half lost: a limit far below the layer
    limit = bob.bandwidth.available_bitrate()
    assert limit is not None
    assert limit < 1_000_000
    assert bob.camera.lowering(bob.video), "the small layer is asked for"
    bob.second(loss=0.5)  # no keyframe of it yet: still sent the large layer, which is over
    assert bob.bandwidth.pauses == 0, "not paused while the smaller layer is awaited"
    assert bob.camera.layer_of(bob.video) == "f"
    bob.second(keyframes=("q",))  # the switch
    assert bob.camera.layer_of(bob.video) == "q"
    for _ in range(5):  # what the large layer took is forgotten: the small one fits
        sent = bob.video.packets
        bob.second()
        assert bob.video.packets > sent
    assert bob.bandwidth.pauses == 0
    assert bob.camera.layer_of(bob.video) == "q", "held at the small layer"
