"""A subscriber's video paused and resumed by its link's estimate, second by second.

Real ``PublishedTrack`` and ``DownTrack`` objects forward to a sink that keeps
what it is given; the test plays the publisher (packets into the tracks) and
the subscriber (its receiver reports), on a clock the test turns.
"""

from __future__ import annotations

import pytest
from support.fed_layers import Sink

from meetwarden.server.media.forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.rtp_packets import RtpFields
from meetwarden.server.media.subscriber_bandwidth import (
    FAILED_WITHIN,
    FIRST_HOLD,
    HEADER_OCTETS,
    SubscriberBandwidth,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Sender:
    def __init__(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self.octets = 0

    def count(self, octets: int) -> None:
        self.octets += octets

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        pass


KEYFRAME = bytes([0x10, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01])
INTER = b"\x10\x11\x02\x00"


def _track(kind: str, source: str) -> PublishedTrack:
    return PublishedTrack(
        "alice",
        source,  # type: ignore[arg-type]
        kind,
        Gate(open=True),
        97,
        KeyframeRequester(lambda: True, 0.5),
        300,
        lambda track: None,
    )


class Subscriber:
    """Bob: a camera (500 kbit/s) and a microphone (about 60 kbit/s) forwarded to him."""

    def __init__(self, enabled: bool = True) -> None:
        self.now = 100.0
        self.changes: list[tuple[str, bool]] = []
        self.bandwidth = SubscriberBandwidth(
            enabled, on_change=lambda track, paused: self.changes.append((track.source, paused))
        )
        self.camera, self.microphone = _track("video", "camera"), _track("audio", "microphone")
        self.video_sink, self.audio_sink = Sink(), Sink()
        self.video = DownTrack("bob", self.video_sink, Sender(1), 100, True)  # type: ignore[arg-type]
        self.audio = DownTrack("bob", self.audio_sink, Sender(2), 111, False)  # type: ignore[arg-type]
        self.camera.add_down(self.video)
        self.microphone.add_down(self.audio)
        self.seq = 0
        self.received = {1: 0, 2: 0}
        self.lost = {1: 0, 2: 0}
        self.second(0.0, keyframe=True)

    @property
    def forwarded(self) -> list[tuple[PublishedTrack, DownTrack]]:
        return [(self.camera, self.video), (self.microphone, self.audio)]

    def second(self, loss: float, keyframe: bool = False) -> None:
        """One second of media (the first video packet a keyframe if asked), then Bob's
        reports: ``loss`` of what reached his link was lost."""
        video_before, audio_before = self.video.packets, self.audio.packets
        for index in range(50):
            self.seq += 1
            start = KEYFRAME if keyframe and index == 0 else INTER
            body = start + bytes(1250 - len(start) - HEADER_OCTETS)  # 1,250 octets on the wire
            self.camera.on_rtp(RtpFields(1, 97, self.seq, 3000 * self.seq, True, False, body))
            self.microphone.on_rtp(
                RtpFields(2, 97, self.seq, 960 * self.seq, True, False, bytes(100))
            )
        self.now += 1.0
        sent = {1: self.video.packets - video_before, 2: self.audio.packets - audio_before}
        for ssrc in (1, 2):
            self.received[ssrc] += sent[ssrc]
            self.lost[ssrc] += round(sent[ssrc] * loss)
        # One compound report (as a browser sends): the audio block, then the video's.
        self.bandwidth.estimate.on_report_block(2, 1000 + self.received[2], self.lost[2])
        self.bandwidth.on_report(
            self.video, 1000 + self.received[1], self.lost[1], self.now, self.forwarded
        )


async def test_the_video_a_link_cannot_take_is_paused_and_its_audio_goes_on() -> None:
    bob = Subscriber()
    bob.second(0.0)
    bob.second(0.0)
    assert bob.bandwidth.available_bitrate() is None
    bob.second(0.4)  # 560 kbit/s sent, 40 % lost: 448 kbit/s, no room for the camera
    assert bob.bandwidth.available_bitrate() == 448_000
    assert bob.changes == [("camera", True)]
    assert bob.video not in bob.camera.downs
    assert bob.bandwidth.is_paused(bob.video)
    video, audio = len(bob.video_sink.sent), len(bob.audio_sink.sent)
    bob.second(0.0)
    assert len(bob.video_sink.sent) == video, "no video while paused"
    assert len(bob.audio_sink.sent) == audio + 50, "all of the audio"


async def test_a_paused_stream_resumes_with_room_after_the_hold_on_a_keyframe_numbering_on() -> (
    None
):
    bob = Subscriber()
    bob.second(0.0)
    bob.second(0.4)
    paused_at = bob.now
    last = int.from_bytes(bob.video_sink.sent[-1][2:4], "big")
    sent = len(bob.video_sink.sent)
    while bob.changes[-1] != ("camera", False):
        bob.second(0.0)
        assert bob.now < paused_at + 60, "never resumed"
    # Two clean seconds after the loss, the limit is back at what the link carried
    # before it (the camera and the audio); the camera resumes once the hold is over.
    assert bob.bandwidth.available_bitrate() == 560_000
    assert bob.now == paused_at + FIRST_HOLD
    assert bob.video in bob.camera.downs
    # The run since the camera's last keyframe is replayed from the cache, from that
    # keyframe on (a longer run than the replay limit would wait for a requested one).
    bob.second(0.0)
    first = bob.video_sink.sent[sent]
    assert first[12:15] == KEYFRAME[:3]
    assert int.from_bytes(first[2:4], "big") == (last + 1) & 0xFFFF, "gap-free numbering"


async def test_a_resume_the_link_cannot_carry_waits_twice_as_long_before_the_next() -> None:
    bob = Subscriber()
    bob.second(0.0)
    bob.second(0.4)
    holds = []
    for _ in range(3):
        while bob.changes[-1] != ("camera", False):
            bob.second(0.0)
        bob.second(0.4, keyframe=True)  # the resumed camera overloads the link again
        for _ in range(15):
            bob.second(0.4)
            if bob.changes[-1] == ("camera", True):
                break
        assert bob.changes[-1] == ("camera", True)
        stream = bob.bandwidth._streams[bob.video]
        holds.append(stream.hold)
    assert holds == [2 * FIRST_HOLD, 4 * FIRST_HOLD, 8 * FIRST_HOLD]


async def test_the_share_a_publisher_is_asked_for_stays_at_the_pause_until_a_resume_holds() -> None:
    """The loss-based limit grows while the camera is paused (nothing tests it); what
    Bob is said to take (the publisher's REMB reads it) does not, until a resume held."""
    bob = Subscriber()
    bob.second(0.0)
    bob.second(0.4)
    assert bob.changes == [("camera", True)]
    at_pause = bob.bandwidth.video_share(bob.forwarded)
    assert at_pause is not None
    assert at_pause < 500_000
    while bob.changes[-1] != ("camera", False):
        bob.second(0.0)
        assert bob.bandwidth.video_share(bob.forwarded) == at_pause
    grown = bob.bandwidth.available_bitrate()
    assert grown is not None
    assert grown > at_pause + 100_000
    assert bob.bandwidth.video_share(bob.forwarded) == at_pause, "a resume is a probe"
    bob.second(0.4, keyframe=True)  # the probe fails
    while bob.changes[-1] != ("camera", True):
        assert bob.bandwidth.video_share(bob.forwarded) <= at_pause
        bob.second(0.4)
    at_pause = bob.bandwidth.video_share(bob.forwarded)  # held anew at each pause
    assert at_pause is not None
    assert at_pause < 500_000
    while bob.changes[-1] != ("camera", False):
        bob.second(0.0)
        assert bob.bandwidth.video_share(bob.forwarded) == at_pause
    resumed_at = bob.now
    bob.second(0.0, keyframe=True)  # this time the link carries it
    while bob.now < resumed_at + FAILED_WITHIN:
        assert bob.bandwidth.video_share(bob.forwarded) <= at_pause
        bob.second(0.0)
    share = bob.bandwidth.video_share(bob.forwarded)
    assert share is not None
    assert share > 500_000, "held for 10 s: the estimate counts again"


async def test_without_control_nothing_is_paused() -> None:
    bob = Subscriber(enabled=False)
    bob.second(0.0)
    for _ in range(5):
        bob.second(0.4)
    assert bob.bandwidth.available_bitrate() is not None
    assert bob.changes == []
    assert bob.video in bob.camera.downs


async def test_the_video_share_sets_aside_the_audio() -> None:
    bob = Subscriber()
    assert bob.bandwidth.video_share(bob.forwarded) is None
    bob.second(0.0)
    bob.second(0.4)
    share = bob.bandwidth.video_share(bob.forwarded)
    audio = 50 * (100 + HEADER_OCTETS) * 8
    assert share == 448_000 - audio
    bob.bandwidth.on_remb(300_000, bob.now)  # of the video alone
    assert bob.bandwidth.video_share(bob.forwarded) == 300_000


async def test_a_remb_pauses_only_when_clearly_below_and_not_right_after_a_resume() -> None:
    bob = Subscriber()
    bob.second(0.0)
    bob.bandwidth.on_remb(480_000, bob.now)  # a receiver's estimate near what arrives
    bob.second(0.0)
    bob.bandwidth.on_remb(480_000, bob.now)
    bob.second(0.0)
    assert bob.changes == []
    bob.bandwidth.on_remb(250_000, bob.now)  # well below the 500 kbit/s camera...
    bob.second(0.0)
    assert bob.changes == [], "but nothing lost: a receiver slow to read, not a slow link"
    bob.bandwidth.on_remb(250_000, bob.now)
    bob.second(0.05)  # congested: 5 % lost
    assert bob.changes == [("camera", True)]
    while bob.changes[-1] != ("camera", False):  # no loss-based limit: resumed after the hold
        bob.second(0.0)
    bob.bandwidth.on_remb(100_000, bob.now)  # the receiver's estimate from before the pause
    bob.second(0.05, keyframe=True)
    assert bob.changes[-1] == ("camera", False), "the estimate gets time to follow"
    for _ in range(5):
        bob.bandwidth.on_remb(100_000, bob.now)
        bob.second(0.05)
    assert bob.changes[-1] == ("camera", True)
