"""Header rewriting, VP8 keyframe detection and the packet cache, byte by byte."""

from __future__ import annotations

import struct
from typing import Any

from aiortc.rtp import RtcpPacket, RtcpPsfbPacket, RtcpRrPacket, unpack_remb_fci

from meetwarden.server.media.forwarder import (
    MAX_CAPTURE_PACKETS,
    DownTrack,
    Gate,
    KeyframeRequester,
    PublishedTrack,
)
from meetwarden.server.media.packet_cache import CachedPacket, PacketCache
from meetwarden.server.media.receive_stats import ReceiveStats
from meetwarden.server.media.rtp_packets import (
    RtpFields,
    build_pli,
    build_receiver_report,
    build_remb,
    parse_rtp,
    vp8_frame_start,
)

KEYFRAME = bytes([0x90, 0x80, 0x05]) + bytes(
    [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]
)
INTER = bytes([0x90, 0x80, 0x06]) + bytes([0x11, 0x02, 0x00])
MIDDLE = bytes([0x80, 0x80, 0x06]) + b"\x00" * 8


def _rtp(seq: int, ts: int, payload: bytes, marker: bool = False, extension: bool = True) -> bytes:
    first = 0x90 if extension else 0x80
    header = struct.pack("!BBHII", first, (0x80 if marker else 0) | 97, seq, ts, 0x1234)
    if extension:  # one-byte header extension block (RFC 8285): mid "0"
        header += struct.pack("!HH", 0xBEDE, 1) + b"\x10\x30\x00\x00"
    return header + payload


def test_parse_skips_the_extension_block_and_reads_the_fields() -> None:
    fields = parse_rtp(_rtp(7, 9000, KEYFRAME, marker=True))
    assert fields is not None
    assert (fields.ssrc, fields.payload_type, fields.sequence_number) == (0x1234, 97, 7)
    assert fields.timestamp == 9000
    assert fields.marker
    assert fields.body == KEYFRAME


def test_parse_drops_short_and_padding_only_packets() -> None:
    assert parse_rtp(b"\x80" * 11) is None
    assert parse_rtp(b"\x40" + b"\x00" * 20) is None  # version 1
    padding_only = struct.pack("!BBHII", 0xA0, 97, 1, 1, 1) + b"\x00\x00\x00\x04"
    assert parse_rtp(padding_only) is None


def test_vp8_keyframe_and_size_are_read_from_the_first_packet_only() -> None:
    start = vp8_frame_start(KEYFRAME)
    assert start is not None
    assert start.keyframe
    assert (start.width, start.height) == (640, 480)
    inter = vp8_frame_start(INTER)
    assert inter is not None
    assert not inter.keyframe
    assert vp8_frame_start(MIDDLE) is None


def test_pli_is_a_psfb_packet_of_three_words() -> None:
    assert build_pli(1, 2) == bytes([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])


class _Sink:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_rtp(self, packet: bytes) -> bool:
        self.sent.append(packet)
        return True


class _Sender:
    ssrc = 0xABCD

    def count(self, octets: int) -> None:
        pass

    def set_clock(self, ntp: int, rtp: int) -> None:
        pass


def _packet(seq: int, keyframe: bool = False) -> CachedPacket:
    return CachedPacket(seq, seq * 3000, True, False, KEYFRAME if keyframe else INTER, keyframe)


def _sequence_numbers(sink: _Sink) -> list[int]:
    return [struct.unpack_from("!H", packet, 2)[0] for packet in sink.sent]


def test_down_track_numbering_has_no_gap_when_the_gate_drops_packets() -> None:
    sink = _Sink()
    sender: Any = _Sender()
    down = DownTrack("bob", sink, sender, 100, video=True)  # type: ignore[arg-type]
    down.send(_packet(500))  # not a keyframe: a video subscriber starts on one
    assert sink.sent == []
    for seq in range(501, 505):
        down.send(_packet(seq, keyframe=seq == 501))
    down.resume()  # gate closed for 500 .. 999, opened again
    down.send(_packet(1000))  # waits for a keyframe
    for seq in range(1001, 1004):
        down.send(_packet(seq, keyframe=seq == 1001))
    numbers = _sequence_numbers(sink)
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(7)]
    first = sink.sent[0]
    assert first[1] & 0x7F == 100
    assert struct.unpack_from("!I", first, 8)[0] == 0xABCD
    assert first[0] == 0x80  # extension and CSRCs stripped


def test_nack_is_mapped_back_through_the_resume() -> None:
    sink = _Sink()
    down = DownTrack("bob", sink, _Sender(), 100, video=True)  # type: ignore[arg-type]
    cache = PacketCache(64)
    for seq in (10, 11, 12, 40, 41):
        packet = _packet(seq, keyframe=seq in (10, 40))
        cache.add(packet)
        if seq == 40:
            down.resume()
        down.send(packet)
    numbers = _sequence_numbers(sink)
    sink.sent.clear()
    assert down.retransmit([numbers[1], numbers[3]], cache) == 2
    assert _sequence_numbers(sink) == [numbers[1], numbers[3]]
    assert [p[12:] for p in sink.sent] == [INTER, KEYFRAME]


def test_cache_replays_from_the_newest_keyframe_within_the_limit() -> None:
    cache = PacketCache(16)
    for seq in range(65530, 65536):
        cache.add(_packet(seq, keyframe=seq == 65532))
    for seq in range(0, 3):
        cache.add(_packet(seq))
    run = cache.since_keyframe(limit=100)
    assert run is not None
    assert [p.sequence_number for p in run] == [
        65532,
        65533,
        65534,
        65535,
        0,
        1,
        2,
    ]
    assert cache.since_keyframe(limit=5) is None
    cache.clear()
    assert cache.since_keyframe(limit=100) is None


def test_a_receiver_report_counts_loss_across_a_sequence_wrap_as_aiortc_reads_it() -> None:
    stats = ReceiveStats(90_000)
    sequence = [65530, 65531, 65533, 65534, 65535, 0, 1, 3]  # 65532 and 2 are lost
    for index, number in enumerate(sequence):
        stats.on_packet(number, index * 3000, index / 30)
    stats.on_sender_report(0x1122334455667788, arrival=0.1)
    packet = build_receiver_report(99, [stats.report_block(1234, now=0.6)])
    (report,) = RtcpPacket.parse(packet)
    assert isinstance(report, RtcpRrPacket)
    assert report.ssrc == 99
    (block,) = report.reports
    assert (block.ssrc, block.packets_lost, block.highest_sequence) == (1234, 2, 65536 + 3)
    assert block.fraction_lost == (2 << 8) // 10
    assert block.lsr == 0x33445566  # the middle 32 bits of the SR's NTP time
    assert block.dlsr == 65536 // 2  # half a second since it, in 1/65536 s
    # The next interval lost nothing: the fraction is of this interval only.
    for index, number in enumerate([4, 5, 6], start=len(sequence)):
        stats.on_packet(number, index * 3000, index / 30)
    (again,) = RtcpPacket.parse(build_receiver_report(99, [stats.report_block(1234)]))
    assert isinstance(again, RtcpRrPacket)
    assert (again.reports[0].fraction_lost, again.reports[0].packets_lost) == (0, 2)


def test_late_packets_and_a_restarted_sequence_are_not_counted_as_loss() -> None:
    stats = ReceiveStats(48_000)
    for number in [100, 101, 103, 102]:  # 102 arrives late, not lost
        stats.on_packet(number, number * 960, number * 0.02)
    assert (stats.expected, stats.lost) == (4, 0)
    stats.on_packet(40_000, 0, 3.0)  # the sender restarted its numbering
    stats.on_packet(40_001, 960, 3.02)
    assert (stats.expected, stats.received, stats.lost) == (2, 2, 0)


def test_remb_carries_the_bitrate_and_ssrcs_as_aiortc_reads_them() -> None:
    for bitrate in (64_000, 262_143, 1_564_000, 2_500_000, 50_000_000):
        (packet,) = RtcpPacket.parse(build_remb(7, bitrate, [11, 12]))
        assert isinstance(packet, RtcpPsfbPacket)
        assert (packet.fmt, packet.ssrc) == (15, 7)
        decoded, ssrcs = unpack_remb_fci(packet.fci)
        assert ssrcs == [11, 12]
        assert bitrate - decoded < bitrate / (1 << 17)  # an 18-bit mantissa's precision


def test_a_keyframe_capture_that_never_ends_is_bounded() -> None:
    """The camera check captures one keyframe up to its marker bit; a publisher that never
    sets it (same timestamp, packet after packet) must not grow the capture for ever."""
    track = PublishedTrack(
        "alice",
        "camera",
        "video",
        Gate(open=False),
        96,
        KeyframeRequester(lambda: True, 1),
        0,
        lambda track: None,
    )
    captured: list[list[bytes]] = []
    track.on_keyframe_captured = captured.append
    track.capture_wanted = True
    keyframe = b"\x10" + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 64, 48) + bytes(20)
    track.on_rtp(RtpFields(1, 96, 0, 1000, False, False, keyframe))
    for sequence in range(1, 3 * MAX_CAPTURE_PACKETS):
        track.on_rtp(RtpFields(1, 96, sequence, 1000, False, False, b"\x00" + bytes(100)))
    assert track._capture is None or len(track._capture) <= MAX_CAPTURE_PACKETS
    assert track.capture_wanted  # it waits for the next keyframe
    assert captured == []
