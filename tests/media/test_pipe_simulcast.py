"""A camera in simulcast layers, piped to another node: its largest layer, one stream.

The sending end (``PipeSender``) and the receiving end (``PipeReceiver``) are
the real ones, talking UDP over loopback with the pipe's secret; the camera is
a ``SimulcastTrack`` whose two layers are fed by hand (tests/support/fed_layers.py),
as a browser sends them. At B a recorder stands where a viewer's ``DownTrack``
would: it sees the pipe's stream as B's viewers are fed it.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from support.counting import until
from support.fed_layers import layered_source

from meetwarden.server.media.forwarder import PublishedTrack
from meetwarden.server.media.packet_cache import CachedPacket
from meetwarden.server.media.pipe_receiver import PipeReceiver
from meetwarden.server.media.pipe_sender import PipeDown, PipeSender

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]
FRAME = 3000  # 90 kHz ticks between frames (30 fps)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """What B's viewers are fed of one piped track: (sequence number, timestamp, tag)."""

    video = True
    subscriber_id = "b-viewer"

    def __init__(self) -> None:
        self.packets: list[tuple[int, int, bytes]] = []
        self.runs = 0

    def send(self, packet: CachedPacket) -> None:
        self.packets.append((packet.sequence_number, packet.timestamp, packet.body[-1:]))

    def resume(self) -> None:
        self.runs += 1

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        pass

    def tags(self) -> list[bytes]:
        return [tag for _, _, tag in self.packets]


async def test_the_largest_layer_is_piped_and_a_switch_keeps_numbering_and_clock() -> None:
    source, layers, gate = layered_source()
    q, f = layers["q"], layers["f"]
    for layer in (q, f):
        layer.feed(0, keyframe=True)  # their sizes known
    remote: list[PublishedTrack] = []
    receiver = PipeReceiver(
        "p1",
        "127.0.0.1",
        keyframe_interval=0.0,
        replay_limit=300,
        loss_repair=False,
        on_added=remote.append,
        on_removed=lambda track: None,
    )
    offer = await receiver.start("127.0.0.1")
    sender = PipeSender(offer)
    await sender.start("127.0.0.1")
    sent: list[tuple[int, bytes]] = []  # the RTP A sends, before the pipe seals it
    send = sender.send

    def on_the_wire(kind: int, epoch: int, body: bytes) -> bool:
        sent.append((kind, body))
        return send(kind, epoch, body)

    sender.send = on_the_wire  # type: ignore[method-assign]
    viewer = Recorder()
    try:
        pipe: PipeDown = sender.add(source)
        assert source.layer_of(pipe) == "f", "no tile, no limit: the largest layer"  # type: ignore[arg-type]
        await until(lambda: bool(remote), 5, "B making the piped track")
        remote[0].add_down(viewer)  # type: ignore[arg-type]
        f.feed(FRAME, keyframe=True, tag=1)
        for n in range(2, 5):
            q.feed(FRAME * n, tag=9)  # the small layer reaches nobody
            f.feed(FRAME * n, tag=1)
        await until(lambda: len(viewer.packets) >= 5, 5, "the large layer at B")
        assert viewer.tags() == [b"\x00"] + [b"\x01"] * 4, "from its last keyframe, cached"

        # The browser stops sending its large layer: the pipe goes on with the small one.
        source.tick()
        q.feed(FRAME * 5, tag=9)
        source.tick()  # f sent nothing since the last tick: idle
        q.feed(FRAME * 6, tag=9)  # not a keyframe: not switched yet
        q.feed(FRAME * 7, keyframe=True, tag=2)  # the switch
        for n in range(8, 10):
            q.feed(FRAME * n, tag=2)
        assert source.layer_of(pipe) == "q"  # type: ignore[arg-type]
        await until(lambda: len(viewer.packets) >= 8, 5, "the small layer at B")
        assert viewer.tags() == [b"\x00"] + [b"\x01"] * 4 + [b"\x02"] * 3
        assert viewer.runs == 1, "B was told a new run starts at the switch"
        numbers = [seq for seq, _, _ in viewer.packets]
        assert [(b - a) & 0xFFFF for a, b in pairwise(numbers)] == [1] * 7, "no gap at B"
        stamps = [ts for _, ts, _ in viewer.packets]
        steps = [(b - a) & 0xFFFFFFFF for a, b in pairwise(stamps)]
        assert steps == [FRAME] * 4 + [3 * FRAME] + [FRAME] * 2, "the clock goes on"

        # B asks again for packets: one of the large layer is not answered from the small
        # layer's cache; one of the small layer is, as it was sent.
        before = len(sent)
        pipe.answer_nack([numbers[2]])
        assert len(sent) == before
        pipe.answer_nack([numbers[6]])
        assert len(sent) == before + 1
        media = [body for kind, body in sent[:before] if _seq(body) == numbers[6]]
        assert sent[-1][1] == media[-1], "the very packet B had been sent"

        # The host closes the camera's gate: every layer keeps arriving at A (a client
        # that ignores the server), and nothing of any of them reaches B's viewer; a NACK
        # for a packet B had is not answered either. Reopened, the camera comes back.
        gate.open = False
        source.gate_closed()
        sender.gate_closed(source)
        closed_at = len(sent)
        for n in range(10, 20):
            q.feed(FRAME * n, keyframe=n % 3 == 0, tag=7)
            f.feed(FRAME * n, keyframe=n % 3 == 0, tag=7)
        pipe.answer_nack([numbers[-1]])
        assert [kind for kind, _ in sent[closed_at:]] == [], "A sent through a closed gate"
        gate.open = True
        source.gate_opened()
        q.feed(FRAME * 20, keyframe=True, tag=8)  # control: the same pipe carries it again
        await until(lambda: viewer.tags()[-1:] == [b"\x08"], 5, "the camera back at B")
        assert b"\x07" not in viewer.tags(), "a packet sent while closed reached B"
    finally:
        sender.close()
        receiver.close()


def _seq(rtp: bytes) -> int:
    return int.from_bytes(rtp[2:4], "big")
