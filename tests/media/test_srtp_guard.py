"""A datagram SRTP cannot take is dropped, never the connection it arrived on.

pylibsrtp raises ValueError("packet is too long") for a datagram over 1,500 bytes
before libsrtp sees it; aiortc catches only ``pylibsrtp.Error`` around unprotect
(rtcdtlstransport.py:692-700), so the exception ended the DTLS transport's
receive loop and with it the participant's connection.
"""

from __future__ import annotations

import logging
import socket

import pytest

from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media import TrackEnded
from meetwarden.server.media.aiortc_seam import guard_counters, primary_transport

from .conftest import Meeting, until
from .test_guards import _server_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

_TOO_LONG = b"\x80" + bytes(1500)  # an RTP-looking first byte, then zeros: 1,501 bytes


async def test_one_oversized_datagram_from_anywhere_ends_nobodys_media(
    meeting: Meeting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 10, what="video")  # the control phase
    before = guard_counters.unprotect_failed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as off_path:
        off_path.sendto(_TOO_LONG, ("127.0.0.1", _server_port(alice.pc)))
        off_path.sendto(_TOO_LONG, ("127.0.0.1", _server_port(bob.pc)))
    await until(lambda: guard_counters.unprotect_failed >= before + 2, what="both dropped")
    frames = video.frames
    await until(lambda: video.frames >= frames + 30, within=5, what="video after the datagrams")
    assert meeting.room.track_stats("alice", "camera") is not None  # still published
    assert [o for o in meeting.observations if isinstance(o, TrackEnded)] == []
    dropped = [r for r in caplog.records if "SRTP" in r.getMessage()]
    assert [r.levelno for r in dropped[:1]] == [logging.WARNING]


async def test_a_packet_aiortc_cannot_handle_is_dropped_and_the_connection_goes_on(
    meeting: Meeting,
) -> None:
    """Whatever raises after unprotect (a parser, a router) drops that datagram only."""
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 10, what="video")
    server_side = meeting.room._participants["bob"].subscriber
    assert server_side is not None
    dtls = primary_transport(server_side.pc)
    assert dtls is not None
    handle = dtls._handle_rtcp_data
    broken = [0]

    async def breaks_three_times(data: bytes) -> None:
        if broken[0] < 3:
            broken[0] += 1
            raise KeyError("what aiortc's RTCP router might raise")
        await handle(data)

    before = guard_counters.receive_errors
    dtls._handle_rtcp_data = breaks_three_times  # type: ignore[method-assign]
    await until(lambda: guard_counters.receive_errors >= before + 3, what="bob's RTCP dropped")
    frames = video.frames
    await until(lambda: video.frames >= frames + 30, within=5, what="video after the errors")
    assert dtls.state == "connected"
