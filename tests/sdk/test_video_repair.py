"""A bot's video comes back after packets lost, and lost again when retransmitted.

Two real aiortc peers connect through the impairment relay (tests/support/impair.py):
a sender with the SDK's synthetic camera (VP8, 640x480) and a receiver. Once
frames decode, the relay drops one video packet and some or all of its
retransmissions (RTX). Counted at the receiver: the video packets that crossed
the relay after the hole before the receiver decoded again.

- Every retransmission lost (a hole nothing repairs): the SDK's receiver asks for
  a keyframe once NACK gives the packet up (128 packets behind) and decodes it
  past the hole (``keyframes.py``). aiortc's own receiver, the control, waits
  until 512 packets came.
- Only the first retransmission lost: the SDK's receiver asks again
  (``nack_repeats.py``) and the second one repairs the hole. Without the repeated
  NACK (the keyframe recovery alone, the control) it waits for the keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest
from aiortc import RTCPeerConnection, RTCRtpCodecParameters, RTCSessionDescription
from aiortc.codecs import depayload, get_encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from support.impair import ImpairedLink, rtp_header

from meetwarden.client_sdk.keyframes import recover_at_keyframes, starts_keyframe
from meetwarden.client_sdk.media import settled
from meetwarden.client_sdk.nack_repeats import repeat_nacks
from meetwarden.client_sdk.synthetic import SyntheticVideoTrack, read_frame_number

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

NACK_HISTORY = 128
"""The missing packets an aiortc receiver still names (rtp.py ``RTP_HISTORY_SIZE``)."""
JITTER_CAPACITY = 512
"""Packets aiortc's video jitter buffer takes in behind a hole before it gives up on it."""
VIDEO_SIZE = 600
"""Bytes above which a datagram is video (the camera's packets are near 1,100 bytes)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Hole:
    """Drops the first video packet it sees once armed and the first ``retransmissions``
    retransmissions after it (RTX comes on an SSRC of its own, and its payload is
    encrypted, so any packet on another SSRC is one), and counts the video packets
    let through after it."""

    def __init__(self, retransmissions: float) -> None:
        self.retransmissions = retransmissions
        self.armed = False
        self.video: tuple[int, int] | None = None
        self.passed = 0
        self.dropped_again = 0

    def __call__(self, data: bytes) -> bool:
        header = rtp_header(data)
        if header is None or not self.armed:
            return False
        ssrc, seq, _ = header
        if self.video is None:
            if len(data) < VIDEO_SIZE:
                return False
            self.video = (ssrc, seq)
            return True
        if ssrc != self.video[0]:  # a retransmission
            if self.dropped_again < self.retransmissions:
                self.dropped_again += 1
                return True
            return False
        if seq == self.video[1]:
            return True
        self.passed += 1
        return False


def _sdk(pc: RTCPeerConnection) -> None:
    """The SDK's video receivers (``media.py`` sets both up after each offer)."""
    recover_at_keyframes(pc)
    repeat_nacks(pc)


def _aiortc_alone(pc: RTCPeerConnection) -> None:
    pass


async def _packets_before_decoding_again(
    recover: Callable[[RTCPeerConnection], None], retransmissions_lost: float
) -> int:
    link = ImpairedLink()
    await link.start()
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    hole = Hole(retransmissions_lost)
    link.down.drop_if = hole
    decoded: list[tuple[int, int]] = []
    """(frame number, video packets through after the hole) of each frame decoded."""
    flowing, again = asyncio.Event(), asyncio.Event()

    async def watch(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                decoded.append((read_frame_number(frame), hole.passed))
                if len(decoded) >= 30:
                    flowing.set()
                # Decoded with packets from after the hole: frames that were complete
                # before it leave the decoder within a packet or two.
                if hole.passed > 10:
                    again.set()

    watching: list[asyncio.Task[None]] = []
    receiver.on("track", lambda track: watching.append(asyncio.create_task(watch(track))))
    try:
        sender.addTrack(SyntheticVideoTrack(640, 480, fps=30))
        await sender.setLocalDescription(await sender.createOffer())
        offer = link.through_client(sender.localDescription.sdp)
        await receiver.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        recover(receiver)
        await receiver.setLocalDescription(await receiver.createAnswer())
        answer = link.through_server(receiver.localDescription.sdp)
        await sender.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(flowing.wait(), 30)
        hole.armed = True
        await asyncio.wait_for(again.wait(), 60)
        return next(passed for _, passed in decoded if passed > 10)
    finally:
        for task in watching:
            task.cancel()
        for pc in (receiver, sender):
            await settled(pc)
            await pc.close()
        link.close()


async def test_a_bot_decodes_again_at_a_keyframe_after_a_packet_never_repaired() -> None:
    forever = float("inf")
    sdk, stock = await asyncio.gather(
        _packets_before_decoding_again(_sdk, forever),
        _packets_before_decoding_again(_aiortc_alone, forever),
    )
    print(f"\nvideo packets before decoding again: SDK {sdk}, aiortc alone {stock}")
    # NACK gives the packet up 128 packets after it; then a keyframe request, and the
    # keyframe's own packets.
    assert sdk < 2 * NACK_HISTORY, sdk
    # The control: aiortc's receiver alone waits at the hole for 512 packets.
    assert stock >= JITTER_CAPACITY - NACK_HISTORY, stock


async def test_a_bot_asks_again_for_a_packet_whose_retransmission_was_lost() -> None:
    sdk, keyframes_only = await asyncio.gather(
        _packets_before_decoding_again(_sdk, 1),
        _packets_before_decoding_again(recover_at_keyframes, 1),
    )
    print(f"\nvideo packets before decoding again: SDK {sdk}, keyframes only {keyframes_only}")
    # Asked again about 0.15 s later (about 10 packets here): the second retransmission
    # repairs the hole before NACK would have given the packet up.
    assert sdk < NACK_HISTORY, sdk
    # The control: asked once only, the packet waits for the keyframe after NACK gave up.
    assert keyframes_only >= NACK_HISTORY, keyframes_only


@pytest.mark.parametrize("mime", ["video/VP8", "video/H264"])
async def test_the_first_packet_of_a_keyframe_is_recognised_in_either_codec(mime: str) -> None:
    """What the recovery skips to: aiortc's own encoders' packets, depayloaded as its
    receiver does; only a keyframe's first packet starts one."""
    codec = RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=96)
    encoder = get_encoder(codec)
    camera = SyntheticVideoTrack(640, 480, fps=30)
    starts: list[list[bool]] = []
    for number in range(4):
        payloads, timestamp = encoder.encode(await camera.recv(), force_keyframe=number == 2)
        packets = []
        for payload in payloads:
            packet = RtpPacket(payload_type=96, timestamp=timestamp, payload=payload)
            packet._data = depayload(codec, payload)  # type: ignore[attr-defined]
            packets.append(starts_keyframe(packet))
        starts.append(packets)
    camera.stop()
    # The first frame is a keyframe, then a delta, the forced keyframe, a delta.
    assert [frame[0] for frame in starts] == [True, False, True, False], starts
    assert not any(starts[1] + starts[3]), "a delta frame's packet taken for a keyframe"
    # Within a keyframe, only what begins the picture: VP8's first packet; H.264's
    # parameter sets and its first slice (the other slices' packets do not).
    for keyframe in (starts[0], starts[2]):
        assert sum(keyframe) <= (1 if mime == "video/VP8" else 2), keyframe
