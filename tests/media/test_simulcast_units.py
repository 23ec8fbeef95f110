"""Simulcast, piece by piece: the SDP lines, binding SSRCs, choosing and switching layers.

Packets are fed to a ``SimulcastTrack``'s layers as the publisher's transport
would hand them over; the test reads what one subscriber's ``DownTrack``
wrote. The layers are real ``PublishedTrack``s and the subscriber a real
``DownTrack``; only its sink and sender are recorders, as in the loss repair
units.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from support.fed_layers import Sender, Sink, layered_source

from meetwarden.server.media.errors import MediaError
from meetwarden.server.media.forwarder import DownTrack
from meetwarden.server.media.layer_choice import LayerInfo, choose_layer
from meetwarden.server.media.simulcast import RAISE_HOLD
from meetwarden.server.media.simulcast_sdp import (
    MID_URI,
    RID_URI,
    RRID_URI,
    ExtensionIds,
    accept_simulcast,
    read_simulcast,
)
from meetwarden.server.media.ssrc_binding import Binding, SsrcBinding
from meetwarden.server.media.track_stats import track_stats_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --------------------------------------------------------------------------- the SDP

VIDEO = (
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "a=mid:1\r\n"
    "a=sendonly\r\n"
    f"a=extmap:4 {MID_URI}\r\n"
    f"a=extmap:10 {RID_URI}\r\n"
    f"a=extmap:11 {RRID_URI}\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)
SIMULCAST = "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n"


def test_a_browser_offer_gives_its_layers_and_ids_and_the_answer_accepts_them() -> None:
    layers, ids = read_simulcast(VIDEO + SIMULCAST)
    assert layers == {"1": ("q", "h", "f")}
    assert ids == ExtensionIds(4, 10, 11)
    answer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=recvonly\r\n"
    answer += f"a=extmap:4 {MID_URI}\r\na=rtpmap:96 VP8/90000\r\n"
    accepted = accept_simulcast(answer, layers, ids).split("\r\n")
    for line in (f"a=extmap:10 {RID_URI}", f"a=extmap:11 {RRID_URI}", "a=rid:q recv"):
        assert line in accepted
    assert "a=simulcast:recv q;h;f" in accepted
    assert accepted.count(f"a=extmap:4 {MID_URI}") == 1
    assert accepted.index("a=simulcast:recv q;h;f") < accepted.index("a=rtpmap:96 VP8/90000")
    assert read_simulcast(VIDEO) == ({}, None), "no simulcast: nothing changes"


@pytest.mark.parametrize(
    "lines",
    [
        "a=rid:q send\r\n",  # a rid and no simulcast line
        "a=rid:q send\r\na=simulcast:recv q\r\n",  # the server sends none
        "a=rid:q send\r\na=simulcast:send q;x\r\n",  # a layer with no a=rid
        "a=rid:q send\r\na=rid:h send\r\na=simulcast:send q,h\r\n",  # alternatives
        "a=rid:q send\r\na=rid:q send\r\na=simulcast:send q\r\n",  # declared twice
        "a=rid:q send\r\na=simulcast:send q;q\r\n",  # listed twice
        "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\n"
        "a=simulcast:send a;b;c;d\r\n",  # four layers
        "a=rid:q/x send\r\na=simulcast:send q/x\r\n",  # not a rid-id
        "a=rid:q send\r\na=rid:h send\r\na=simulcast:send q\r\n",  # a rid in no layer
        "a=rid:q send\r\na=simulcast:send q\r\na=simulcast:send q\r\n",
    ],
)
def test_malformed_simulcast_is_refused_with_a_sentence(lines: str) -> None:
    with pytest.raises(MediaError) as refused:
        read_simulcast(VIDEO + lines)
    assert refused.value.code == "bad_offer"
    assert refused.value.message.endswith(".")


def test_simulcast_needs_the_stream_id_extension_and_video() -> None:
    without = VIDEO.replace(f"a=extmap:10 {RID_URI}\r\n", "")
    with pytest.raises(MediaError, match="rtp-stream-id"):
        read_simulcast(without + SIMULCAST)
    audio = VIDEO.replace("m=video", "m=audio")
    with pytest.raises(MediaError, match="only video"):
        read_simulcast(audio + SIMULCAST)


# --------------------------------------------------------------------------- choosing

LAYERS = [LayerInfo("q", 320, 180), LayerInfo("h", 640, 360), LayerInfo("f", 1280, 720)]


def test_the_smallest_layer_covering_the_tile_within_the_bandwidth() -> None:
    assert choose_layer(LAYERS, (200, 112), None) == "q"
    assert choose_layer(LAYERS, (321, 180), None) == "h"
    assert choose_layer(LAYERS, (1920, 1080), None) == "f", "none covers it: the largest"
    assert choose_layer(LAYERS, None, None) == "f", "no tile said: the full picture"
    assert choose_layer(LAYERS, None, 600_000) == "h"
    assert choose_layer(LAYERS, (1280, 720), 300_000) == "q"
    assert choose_layer(LAYERS, None, 10_000) == "q", "never below the smallest"
    assert choose_layer([LayerInfo("q", 0, 0)], None, None) is None, "no size known yet"


# --------------------------------------------------------------------------- binding

IDS = ExtensionIds(mid=4, rid=10, rrid=11)


def _packet(ssrc: int, mid: str | None, rid: str | None = None, rrid: str | None = None) -> bytes:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=4, uri=MID_URI),
                RTCRtpHeaderExtensionParameters(id=10, uri=RID_URI),
                RTCRtpHeaderExtensionParameters(id=11, uri=RRID_URI),
            ]
        )
    )
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=1, ssrc=ssrc)
    packet.extensions.mid = mid
    packet.extensions.rtp_stream_id = rid
    packet.extensions.repaired_rtp_stream_id = rrid
    packet.payload = b"\x10" + bytes(20)
    return packet.serialize(extensions)


def test_an_ssrc_binds_once_to_a_declared_layer_and_a_layer_to_one_ssrc() -> None:
    table = SsrcBinding(IDS)
    table.declare({"1": ("q", "f")})
    assert table.bind(1, _packet(1, "1", "x")) is None, "a rid the offer did not declare"
    assert table.bind(2, _packet(2, "0", "q")) is None, "a mid with no layers"
    assert table.bind(3, _packet(3, None, "q")) is None, "no mid named"
    assert table.bind(4, bytes(_packet(4, None))[:12]) is None, "no extension at all"
    assert table.bind(5, _packet(5, "1", "q")) == Binding("1", "q", False)
    assert table.bind(5, _packet(5, "1", "f")) is None, "a bound SSRC is never bound again"
    assert table.bound(5) == Binding("1", "q", False)
    assert table.bind(6, _packet(6, "1", "q")) is None, "the layer has its SSRC"
    assert table.bind(7, _packet(7, "1", rrid="q")) == Binding("1", "q", True)
    assert table.ssrc_of("1", "q", repair=True) == 7
    assert len(table) == 2
    table.declare({"1": ("f",)})
    assert table.bound(5) is None, "a layer no longer offered is forgotten"


# --------------------------------------------------------------------------- switching


def _headers(sink: Sink) -> list[tuple[int, int, bytes]]:
    return [
        (int.from_bytes(p[2:4], "big"), int.from_bytes(p[4:8], "big"), p[-1:]) for p in sink.sent
    ]


async def test_a_switch_waits_for_the_keyframe_and_numbering_and_clock_go_on() -> None:
    source, layers, gate = layered_source()
    q, f = layers["q"], layers["f"]
    for layer in (q, f):
        layer.feed(0, keyframe=True)  # sizes known
    sink = Sink()
    down = DownTrack("bob", sink, Sender(), 100, True)  # type: ignore[arg-type]
    source.set_tile("bob", 300, 170)
    source.add_down(down)
    assert source.layer_of(down) == "q"
    for n in range(1, 4):
        q.feed(3000 * n, keyframe=n == 1, tag=1)
        f.feed(3000 * n, tag=2)
    tags = [tag for _, _, tag in _headers(sink)]
    assert tags == [b"\x00"] + [b"\x01"] * 3, "the cached keyframe, then only the small layer"
    plis = f.plis
    source.set_tile("bob", 1280, 720)
    assert f.plis == plis + 1, "a keyframe of the target layer is asked for"
    q.feed(12_000, tag=1)
    f.feed(12_000, tag=2)  # not a keyframe: no switch yet
    assert source.layer_of(down) == "q"
    f.feed(15_000, keyframe=True, tag=3)  # the switch
    q.feed(15_000, tag=1)  # the old layer no longer reaches this subscriber
    f.feed(18_000, tag=4)
    assert source.layer_of(down) == "f"
    headers = _headers(sink)
    assert [tag for _, _, tag in headers] == [b"\x00"] + [b"\x01"] * 4 + [b"\x03", b"\x04"]
    numbers = [seq for seq, _, _ in headers]
    assert numbers == [(numbers[0] + n) & 0xFFFF for n in range(len(numbers))], "no gap"
    stamps = [ts for _, ts, _ in headers]
    assert [(b - a) & 0xFFFFFFFF for a, b in pairwise(stamps)] == [3000] * 6
    assert source.switches == 1
    # A NACK of a packet before the switch is not answered from the new layer's cache.
    sent = len(sink.sent)
    source.on_nack(down, [numbers[2]])
    assert len(sink.sent) == sent
    source.on_nack(down, [numbers[-1]])
    assert sink.sent[-1] == sink.sent[sent - 1], "after the switch: the new layer's packet"
    # The gate is the source's: closed, no layer reaches anyone; opened, a keyframe resumes.
    gate.open = False
    source.gate_closed()
    for n in range(7, 10):
        q.feed(3000 * n, keyframe=True, tag=5)
        f.feed(3000 * n, keyframe=True, tag=5)
    assert len(sink.sent) == sent + 1
    gate.open = True
    source.gate_opened()
    f.feed(30_000, tag=6)
    f.feed(33_000, keyframe=True, tag=7)
    after = _headers(sink)[sent + 1 :]
    assert [tag for _, _, tag in after] == [b"\x07"]
    assert after[0][0] == (numbers[-1] + 1) & 0xFFFF, "numbering goes on after the gate"
    stats = track_stats_of(source)  # the layers' counters, together
    assert stats.packets_received == sum(t.track.packets_received for t in layers.values())
    assert (stats.width, stats.height, stats.subscribers) == (1280, 720, 1)


async def test_down_a_layer_without_sender_reports_keeps_the_clock_moving_forward() -> None:
    source, layers, _ = layered_source()
    for layer in layers.values():
        layer.track.sender_report = None
    q, f = layers["q"], layers["f"]
    sink = Sink()
    down = DownTrack("bob", sink, Sender(), 100, True)  # type: ignore[arg-type]
    f.feed(0, keyframe=True)
    q.feed(0, keyframe=True)
    source.add_down(down)  # no tile: the full picture
    assert source.layer_of(down) == "f"
    f.feed(3000, keyframe=True, tag=1)
    source.set_tile("bob", 160, 90)
    q.feed(6000, keyframe=True, tag=2)
    assert source.layer_of(down) == "q"
    (s1, t1, _), (s2, t2, _) = _headers(sink)[-2:]  # the last of f, the first of q
    assert s2 == (s1 + 1) & 0xFFFF
    assert 0 < (t2 - t1) & 0xFFFFFFFF < 90_000, "forward, and by less than a second"


async def test_a_slow_subscriber_gets_a_small_layer_and_lowers_nobody_else() -> None:
    source, layers, _ = layered_source()
    source.bandwidth = {"slow": 300_000, "fast": 5_000_000}.get
    for layer in layers.values():
        layer.feed(0, keyframe=True)
    downs = {name: DownTrack(name, Sink(), Sender(), 100, True) for name in ("slow", "fast")}
    for name, down in downs.items():
        source.set_tile(name, 1280, 720)
        source.add_down(down)  # type: ignore[arg-type]
    assert source.layer_of(downs["slow"]) == "q", "1280x720 does not fit 300 kbit/s"
    assert source.layer_of(downs["fast"]) == "f"
    source.bandwidth = {"slow": 3_000_000, "fast": 5_000_000}.get  # the estimate rose
    source.tick()
    layers["f"].feed(3000, keyframe=True)
    assert source.layer_of(downs["slow"]) == "f"


async def test_the_camera_check_decodes_a_keyframe_of_one_layer_and_counts_frames() -> None:
    source, layers, _ = layered_source()
    captured: list[list[bytes]] = []
    source.on_keyframe_captured = captured.append
    source.capture_wanted = True
    assert source.capture_wanted
    layers["f"].feed(0, tag=1)  # not a keyframe: nothing captured
    layers["q"].feed(0, keyframe=True, tag=2)  # the check layer is the first bound
    assert len(captured) == 1
    assert captured[0][0][-1] == 2
    assert not source.capture_wanted, "one keyframe per request"
    for n in range(1, 5):
        layers["f"].feed(3000 * n)
    assert source.frames == 5, "the layer with the most frames"


async def test_a_layer_lowered_for_bandwidth_is_raised_again_only_after_a_hold() -> None:
    """The loss-based limit grows while the small layer crosses the link unharmed; that is
    no sign the large one would: a raise waits, and a raise the link loses waits longer."""
    source, layers, _ = layered_source()
    now = [100.0]
    source.clock = lambda: now[0]
    bandwidth = {"slow": None, "fast": None}
    source.bandwidth = bandwidth.get
    for layer in layers.values():
        layer.feed(0, keyframe=True)
    downs = {name: DownTrack(name, Sink(), Sender(), 100, True) for name in ("slow", "fast")}
    for name, down in downs.items():
        source.set_tile(name, 1280, 720)
        source.add_down(down)  # type: ignore[arg-type]
    assert source.layer_of(downs["slow"]) == "f", "no limit known: the full picture"

    def tick(seconds: float, slow: int | None, keyframes: tuple[str, ...] = ("q", "f")) -> None:
        now[0] += seconds
        bandwidth["slow"] = slow
        source.tick()
        for rid in keyframes:
            layers[rid].feed(int(now[0] * 90_000), keyframe=True)

    tick(1, 300_000)
    assert source.layer_of(downs["slow"]) == "q", "lowered: 1280x720 does not fit"
    tick(10, 3_000_000)  # the limit grew while the small layer crossed the link
    assert source.layer_of(downs["slow"]) == "q", "held"
    tick(RAISE_HOLD, 3_000_000)
    assert source.layer_of(downs["slow"]) == "f", "raised after the hold"
    tick(2, 300_000)  # the link lost it: lowered again
    assert source.layer_of(downs["slow"]) == "q"
    tick(RAISE_HOLD + 1, 3_000_000)
    assert source.layer_of(downs["slow"]) == "q", "a raise that failed: the wait doubled"
    tick(RAISE_HOLD, 3_000_000)
    assert source.layer_of(downs["slow"]) == "f"
    tick(1, None)  # a raise with no limit known is not held; the other viewer never was
    assert source.layer_of(downs["fast"]) == "f"
    source.set_tile("slow", 320, 180)  # a smaller tile is no lowering for bandwidth
    tick(1, 3_000_000)
    source.set_tile("slow", 1280, 720)
    tick(1, 3_000_000)
    assert source.layer_of(downs["slow"]) == "f"
