"""What an authenticated peer sends that the forwarder and the camera check must survive.

Found by the fuzz targets in tests/fuzz (their crash inputs are kept in its
corpus); each test here shows the same failure through the media plane's own API.
"""

from __future__ import annotations

import logging
import struct

import pytest
from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtp import RtcpPacket
from pylibsrtp._binding import ffi

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack
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
