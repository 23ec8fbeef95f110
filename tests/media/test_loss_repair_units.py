"""The loss repair of a published video track, packet by packet, on a clock the test turns.

Packets are fed to a ``LossRepair`` in the order a network would deliver
them; the test reads what it released (in order, to the subscribers), the
NACKs it sent and the keyframes it asked for. Its timer is replaced by calls
to ``tick`` at instants the test chooses, so nothing here waits.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.fed_layers import Sender, Sink

from meetwarden.server.media import loss_repair
from meetwarden.server.media.forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.loss_repair import (
    MAX_GAP,
    MAX_NACKS,
    REORDER_WAIT,
    LossRepair,
)
from meetwarden.server.media.packet_cache import CachedPacket
from meetwarden.server.media.rtp_packets import RtpFields, build_nack

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A LossRepair whose effects are recorded and whose time the test sets."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clock = Clock()
        monkeypatch.setattr(loss_repair.time, "monotonic", self.clock)
        self.released: list[int] = []
        self.nacks: list[list[int]] = []
        self.keyframe_requests = 0
        self.resumed = 0
        self.repair = LossRepair(
            send_nack=lambda lost: self.nacks.append(sorted(lost)) is None,
            release=lambda packet: self.released.append(packet.sequence_number),
            request_keyframe=self._keyframe,
            resume_subscribers=self._resume,
        )
        # The timer is the test's: ``tick`` runs what it would have run.
        monkeypatch.setattr(self.repair, "_schedule", lambda when: None)

    def _keyframe(self) -> None:
        self.keyframe_requests += 1

    def _resume(self) -> None:
        self.resumed += 1

    def feed(self, *sequence_numbers: int, keyframe: bool = False) -> None:
        for sequence_number in sequence_numbers:
            packet = _packet(sequence_number, keyframe)
            if self.repair.passes(packet):
                self.released.append(sequence_number)

    def retransmit(self, *sequence_numbers: int) -> None:
        for sequence_number in sequence_numbers:
            self.repair.retransmitted(_packet(sequence_number))

    def tick(self, after: float) -> None:
        self.clock.now += after
        self.repair._tick()


def _packet(sequence_number: int, keyframe: bool = False) -> CachedPacket:
    return CachedPacket(sequence_number & 0xFFFF, 0, False, False, b"\x10\x00", keyframe)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(monkeypatch)


async def test_packets_in_order_pass_at_once_and_nothing_is_asked_for(harness) -> None:
    harness.feed(*range(100, 200))
    harness.tick(1.0)
    assert harness.released == list(range(100, 200))
    assert harness.nacks == []


async def test_a_gap_holds_what_follows_and_its_repair_releases_everything_in_order(
    harness,
) -> None:
    harness.feed(1, 2, 3, 6, 7)
    assert harness.released == [1, 2, 3]
    assert harness.repair.holding == 2
    harness.tick(REORDER_WAIT / 2)
    assert harness.nacks == [], "a packet merely overtaken is not asked for yet"
    harness.tick(REORDER_WAIT)
    assert harness.nacks == [[4, 5]], "both asked for in one NACK"
    harness.retransmit(5)
    assert harness.released == [1, 2, 3], "5 waits for 4"
    harness.retransmit(4)
    assert harness.released == [1, 2, 3, 4, 5, 6, 7]
    harness.feed(8)
    assert harness.released[-1] == 8
    assert harness.repair.counters().packets_repaired == 2
    assert harness.keyframe_requests == 0


async def test_a_packet_overtaken_but_not_lost_is_never_asked_for(harness) -> None:
    harness.feed(1, 3, 2, 4)
    harness.tick(1.0)
    assert harness.released == [1, 2, 3, 4]
    assert harness.nacks == []


async def test_a_missing_packet_is_asked_for_again_each_timeout_then_given_up(
    harness,
) -> None:
    harness.feed(10, 12, 13)
    harness.tick(REORDER_WAIT)
    while not harness.keyframe_requests:
        harness.tick(loss_repair.INITIAL_RTO)
    # Asked for at each timeout, until MAX_NACKS or MAX_WAIT, whichever comes first.
    assert 1 < len(harness.nacks) <= MAX_NACKS
    assert set(map(tuple, harness.nacks)) == {(11,)}
    assert harness.clock.now - 1000.0 <= loss_repair.MAX_WAIT + loss_repair.INITIAL_RTO
    # Given up: what waited is dropped, subscribers resume on a keyframe asked for.
    assert harness.keyframe_requests == 1
    assert harness.resumed == 1
    assert harness.released == [10]
    harness.feed(14, 15)
    assert harness.released == [10], "nothing but a keyframe helps now"
    harness.feed(16, keyframe=True)
    harness.feed(17)
    assert harness.released == [10, 16, 17]
    harness.retransmit(11)
    assert harness.released == [10, 16, 17], "a repair that comes too late is dropped"


async def test_a_keyframe_after_a_gap_is_where_the_stream_goes_on_without_asking(
    harness,
) -> None:
    harness.feed(1, 2, 4, 5)
    harness.feed(6, keyframe=True)
    harness.feed(7)
    assert harness.released == [1, 2, 6, 7]
    assert harness.resumed == 1
    assert harness.keyframe_requests == 0
    harness.tick(1.0)
    assert harness.nacks == []


async def test_a_gap_wider_than_anyone_keeps_is_mended_by_a_keyframe(harness) -> None:
    harness.feed(1, 2, 2 + MAX_GAP + 1)
    assert harness.keyframe_requests == 1
    assert harness.resumed == 1
    harness.tick(1.0)
    assert harness.nacks == []


async def test_a_retransmission_nobody_asked_for_is_dropped(harness) -> None:
    harness.feed(1, 2, 3)
    harness.retransmit(2, 4, 9)
    assert harness.released == [1, 2, 3]
    harness.feed(4)
    assert harness.released == [1, 2, 3, 4]


async def test_sequence_numbers_wrap(harness) -> None:
    harness.feed(65533, 65534, 1, 2)
    harness.tick(REORDER_WAIT)
    assert harness.nacks == [[0, 65535]]
    harness.retransmit(65535, 0)
    assert harness.released == [65533, 65534, 65535, 0, 1, 2]


async def test_a_reset_forgets_what_was_held(harness) -> None:
    harness.feed(1, 3, 4)
    harness.repair.reset()
    harness.retransmit(2)
    harness.tick(1.0)
    assert harness.released == [1]
    assert harness.nacks == []
    harness.feed(50)
    assert harness.released == [1, 50], "the stream starts afresh"


async def test_the_timeout_follows_the_measured_round_trip(harness) -> None:
    harness.feed(1, 3)
    harness.tick(REORDER_WAIT)
    harness.clock.now += 0.05
    harness.retransmit(2)
    assert harness.repair.counters().round_trip == pytest.approx(0.05)
    harness.feed(4, 6)
    harness.tick(REORDER_WAIT)
    assert harness.nacks[-1] == [5]
    # 50 ms + 4 x 25 ms: asked again after 150 ms, not the initial 200 ms.
    harness.tick(0.12)
    assert len(harness.nacks) == 2
    harness.tick(0.04)
    assert len(harness.nacks) == 3


# --------------------------------------------------------------------------- the track


KEYFRAME = bytes([0x10, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01])


def _fields(sequence_number: int, keyframe: bool = False) -> RtpFields:
    # VP8 (RFC 7741 4.2-4.3): a descriptor with S=1, then a keyframe's or an inter frame's tag.
    start = KEYFRAME if keyframe else b"\x10\x11\x02\x00"
    body = start + bytes([sequence_number & 0xFF])
    return RtpFields(1, 97, sequence_number, 3000 * sequence_number, True, False, body)


async def test_a_repaired_packet_is_forwarded_and_answers_a_subscriber_nack(
    harness, monkeypatch
) -> None:
    nacks: list[list[int]] = []
    track = PublishedTrack(
        "alice",
        "camera",
        "video",
        Gate(open=True),
        97,
        KeyframeRequester(lambda: True, 0.5),
        300,
        lambda track: None,
        send_nack=lambda lost: nacks.append(lost) is None,
    )
    assert track.repair is not None
    monkeypatch.setattr(track.repair, "_schedule", lambda when: None)
    sink = Sink()
    down = DownTrack("bob", sink, Sender(), 100, True)  # type: ignore[arg-type]
    track.add_down(down)
    track.on_rtp(_fields(1, keyframe=True))
    track.on_rtp(_fields(2))
    track.on_rtp(_fields(4))
    assert len(sink.sent) == 2, "4 waits for 3"
    harness.clock.now += REORDER_WAIT
    track.repair._tick()
    assert nacks == [[3]]
    track.on_retransmission(_fields(3))
    forwarded = [int.from_bytes(packet[2:4], "big") for packet in sink.sent]
    assert len(forwarded) == 4
    assert forwarded == list(range(forwarded[0], forwarded[0] + 4)), "in order, gap-free"
    assert sink.sent[2][-1] == 3, "the repaired packet, in its place"
    # The subscriber lost it on its own link: the cache answers with the repaired packet.
    assert track.cache.get(3) is not None
    track.on_nack(down, [forwarded[2]])
    assert sink.sent[-1] == sink.sent[2]


async def test_a_retransmission_for_a_closed_gate_is_never_forwarded(harness, monkeypatch) -> None:
    gate = Gate(open=True)
    track = PublishedTrack(
        "alice",
        "camera",
        "video",
        gate,
        97,
        KeyframeRequester(lambda: True, 0.5),
        300,
        lambda track: None,
        send_nack=lambda lost: True,
    )
    assert track.repair is not None
    monkeypatch.setattr(track.repair, "_schedule", lambda when: None)
    sink = Sink()
    track.add_down(DownTrack("bob", sink, Sender(), 100, True))  # type: ignore[arg-type]
    track.on_rtp(_fields(1, keyframe=True))
    track.on_rtp(_fields(3))
    track.on_rtp(_fields(4))
    sent = len(sink.sent)
    gate.open = False
    track.gate_closed()
    for sequence_number in (2, 3, 4, 5):
        track.on_retransmission(_fields(sequence_number))
        track.on_rtp(_fields(sequence_number))
    harness.clock.now += 5
    track.repair._tick()
    assert len(sink.sent) == sent == 1
    assert track.repair.holding == 0


def test_a_nack_names_every_packet_asked_for() -> None:
    from aiortc.rtp import RtcpPacket

    for lost in ([7], list(range(100, 300)), [65530, 65535, 0, 3, 40]):
        parsed: Any = RtcpPacket.parse(build_nack(1, 2, lost))[0]
        assert (parsed.ssrc, parsed.media_ssrc) == (1, 2)
        assert sorted(parsed.lost) == sorted(lost)


async def test_duplicates_and_late_copies_are_dropped_and_a_restart_starts_afresh(
    harness,
) -> None:
    harness.feed(500, 501, 501, 499, 502)
    assert harness.released == [500, 501, 502]
    harness.feed(502)
    assert harness.released == [500, 501, 502]
    harness.feed(20_000)  # a publisher that restarted its numbering, on an inter frame
    assert harness.keyframe_requests == 1
    harness.feed(20_001)
    harness.feed(20_002, keyframe=True)
    harness.feed(20_003)
    assert harness.released == [500, 501, 502, 20_002, 20_003]
