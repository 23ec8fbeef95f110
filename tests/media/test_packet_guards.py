"""What an authenticated peer sends that the forwarder and the camera check must survive.

Found by the fuzz targets in tests/fuzz (their crash inputs are kept in its
corpus); each test here shows the same failure through the media plane's own API.
"""

from __future__ import annotations

import fractions
import logging
import struct
from typing import Any

import av
import numpy as np
import pytest
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtp import RtcpPacket
from pylibsrtp._binding import ffi

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack
from meetwarden.server.media import camera_monitor
from meetwarden.server.media.aiortc_seam import guard_counters, install_transport_guards

from .conftest import Meeting, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


async def test_a_packet_srtp_will_not_protect_is_dropped_for_each_subscriber_quietly(
    meeting: Meeting, caplog: pytest.LogCaptureFixture
) -> None:
    """pylibsrtp protects at most 1,356 bytes: a publisher's 1,400-byte RTP packet made the
    forwarder raise at the first subscriber (the others were skipped) and log a traceback,
    per packet."""
    alice = meeting.publisher("alice")
    microphone = alice.add("microphone", SyntheticAudioTrack())
    meeting.room.set_gate("alice", "microphone", True)
    await alice.publish()
    bob = await meeting.subscriber("bob")
    carol = await meeting.subscriber("carol")
    heard = [bob.got("alice", "microphone"), carol.got("alice", "microphone")]
    await until(lambda: all(r.frames >= 10 for r in heard), what="audio to both")
    sender = microphone.sender
    dtls = sender.transport
    sent: list[bytes] = []
    send = dtls._send_rtp

    async def keep(data: bytes) -> None:
        if not 192 <= data[1] <= 223 and int.from_bytes(data[8:12], "big") == sender._ssrc:
            sent.append(data)
        await send(data)

    dtls._send_rtp = keep
    # pylibsrtp protects at most 1,356 bytes too; a browser's libsrtp has no such limit.
    client_srtp = dtls._tx_srtp
    client_srtp._cdata = ffi.new("char[]", 2048)
    client_srtp._buffer = ffi.buffer(client_srtp._cdata)
    await until(lambda: bool(sent), what="a packet of alice's to copy")
    refused = guard_counters.protect_failed
    first, payload_type = sent[-1][0], sent[-1][1]
    for n in range(20):
        sequence = (int.from_bytes(sent[-1][2:4], "big") + 300 + n) & 0xFFFF
        header = struct.pack("!BBHII", first & 0xC0, payload_type, sequence, 0, sender._ssrc)
        await send(header + b"\xfc" + bytes(1399))  # 1,412 bytes: SRTP protects 1,356
    await until(lambda: guard_counters.protect_failed >= refused + 40, what="both refused")
    frames = [r.frames for r in heard]
    await until(
        lambda: all(r.frames >= f + 10 for r, f in zip(heard, frames, strict=True)),
        what="audio goes on to both",
    )
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_remb_that_counts_more_ssrcs_than_it_carries_goes_nowhere() -> None:
    """aiortc's router read it with struct.error (it catches ValueError): before the
    receive guard that closed the transport, after it a warning per packet."""
    install_transport_guards()
    remb = struct.pack("!BBHII4sBBHI", 0x8F, 206, 5, 7, 0, b"REMB", 3, 0, 0, 0x11111111)
    before = guard_counters.malformed_rtcp
    for packet in RtcpPacket.parse(remb):
        assert RtpRouter().route_rtcp(packet) == set()
    assert guard_counters.malformed_rtcp == before + 1


def _keyframe_payloads() -> list[bytes]:
    y = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
    frame = av.VideoFrame.from_ndarray(np.dstack([y, y, y]), format="rgb24")
    frame.pts, frame.time_base = 0, fractions.Fraction(1, 90_000)
    payloads, _ = Vp8Encoder().encode(frame, force_keyframe=True)
    return payloads


def _claiming(payloads: list[bytes], width: int, height: int) -> list[bytes]:
    first = payloads[0]
    at = first.find(b"\x9d\x01\x2a")
    return [first[: at + 3] + struct.pack("<HH", width, height) + first[at + 7 :], *payloads[1:]]


def test_the_camera_check_decodes_no_keyframe_claiming_more_than_4k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libvpx allocates for the size a keyframe claims before it finds the frame short: a
    180-byte packet claiming 13404 x 13404 grew the server by 324 MiB."""
    payloads = _keyframe_payloads()
    decoders: list[Any] = []
    create = av.CodecContext.create

    def counted(*args: Any, **kwargs: Any) -> Any:
        decoders.append(args)
        return create(*args, **kwargs)

    monkeypatch.setattr(camera_monitor.av.CodecContext, "create", counted)
    assert camera_monitor.decode_picture(payloads) is not None  # the control: 64 x 48
    assert len(decoders) == 1
    for width, height in [(13404, 13404), (8000, 8000), (3841, 2160)]:
        assert camera_monitor.decode_picture(_claiming(payloads, width, height)) is None
    assert len(decoders) == 1  # none of them reached the decoder
