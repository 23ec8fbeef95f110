"""RTCP feedback: NACKs answered from the cache, PLIs forwarded to the publisher, rate-limited."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtcpRrPacket, unpack_remb_fci

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import CameraCheck
from meetwarden.server.media.nack_budget import BURST, RATE
from meetwarden.server.media.publisher import MAX_BITRATE

from .conftest import Meeting, Subscriber, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# No camera probes: they ask for keyframes too, and these tests count keyframe requests.
QUIET = CameraCheck(probe_interval=3600.0)


async def _video_meeting(meeting: Meeting) -> tuple[Any, Subscriber]:
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 10, what="video")
    return alice, bob


async def _inbound_ssrc(bob: Subscriber) -> int:
    for transceiver in bob.pc.getTransceivers():
        if bob.tracks.get(transceiver.mid or "") == ("alice", "camera"):
            for stats in (await transceiver.receiver.getStats()).values():
                if stats.type == "inbound-rtp":
                    return int(stats.ssrc)
    raise AssertionError("bob has no inbound video")


async def test_lost_packet_is_retransmitted_from_the_cache(make_meeting, decode_errors) -> None:
    meeting: Meeting = make_meeting(camera_check=QUIET)
    try:
        _, bob = await _video_meeting(meeting)
        ssrc = await _inbound_ssrc(bob)
        # Lose one video packet on the wire to bob, before SRTP (whose replay check would
        # otherwise reject the retransmission as a packet it already saw).
        ice = bob.pc.getTransceivers()[0].receiver.transport.transport
        original = ice._recv
        lost: list[int] = []

        async def lossy() -> bytes:
            while True:
                data = await original()
                is_rtp = len(data) > 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223
                if is_rtp and not lost and int.from_bytes(data[8:12], "big") == ssrc:
                    lost.append(int.from_bytes(data[2:4], "big"))
                    continue
                return data

        ice._recv = lossy
        await until(lambda: bool(lost), what="a packet to lose")
        await until(
            lambda: meeting.room.track_stats("alice", "camera").packets_retransmitted >= 1,  # type: ignore[union-attr]
            within=3,
            what="the NACK answered from the cache",
        )
        video = bob.got("alice", "camera")
        frames = video.frames
        await until(lambda: video.frames >= frames + 30, within=3, what="video goes on")
        assert decode_errors.count == 0
    finally:
        await asyncio.wait_for(meeting.close(), 20)


async def test_keyframe_requests_reach_the_publisher_rate_limited(make_meeting) -> None:
    meeting: Meeting = make_meeting(camera_check=QUIET, keyframe_interval=0.5)
    try:
        alice, bob = await _video_meeting(meeting)
        await asyncio.sleep(0.6)  # let the join's own keyframe request age past the limit
        sender = alice.transceivers["camera"].sender
        received: list[float] = []
        original = sender._send_keyframe

        def count() -> None:
            received.append(time.monotonic())
            original()

        sender._send_keyframe = count
        ssrc = await _inbound_ssrc(bob)
        receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.kind == "video")
        before = meeting.room.track_stats("alice", "camera")
        assert before is not None
        started = time.monotonic()
        for _ in range(20):  # a subscriber storming the publisher with PLIs
            await receiver._send_rtcp_pli(ssrc)
        await until(lambda: len(received) >= 1, within=1, what="the first PLI forwarded")
        assert received[0] - started < 0.6  # at once, or at the end of the current interval
        await until(lambda: time.monotonic() - started > 1.5, what="the storm's aftermath")
        after = meeting.room.track_stats("alice", "camera")
        assert after is not None
        assert after.keyframe_requests - before.keyframe_requests >= 20
        # 20 requests within one interval reach the publisher as at most two PLIs
        # (one at once, one deferred), never closer together than the interval.
        assert 1 <= len(received) <= 3
        gaps = [b - a for a, b in itertools.pairwise(received)]
        assert all(gap >= 0.45 for gap in gaps), gaps
    finally:
        await asyncio.wait_for(meeting.close(), 20)


async def test_the_publisher_hears_its_loss_its_round_trip_and_how_much_it_may_send(
    make_meeting,
) -> None:
    """Without receiver feedback a browser never raises its send rate above its start."""
    meeting: Meeting = make_meeting(camera_check=QUIET)
    try:
        meeting.admit("alice")
        meeting.room.set_gate("alice", "camera", True)
        alice = meeting.publisher("alice")
        alice.add("microphone", SyntheticAudioTrack())
        camera = alice.add("camera", SyntheticVideoTrack(320, 240, 30))
        sender = camera.sender
        rtcp: list[Any] = []
        handle = sender._handle_rtcp_packet
        loss_reported = asyncio.Event()

        async def remote() -> Any:
            for stats in (await sender.getStats()).values():
                if stats.type == "remote-inbound-rtp":
                    return stats
            return None

        async def heard(packet: Any) -> None:
            rtcp.append(packet)
            await handle(packet)
            if isinstance(packet, RtcpRrPacket):
                report = await remote()
                if report is not None and report.packetsLost >= 10 and report.roundTripTime:
                    loss_reported.set()

        sender._handle_rtcp_packet = heard
        await alice.publish()
        # Lose ten of alice's video packets on their way to the server (the transport is
        # the bundle's, known once the answer is applied).
        dtls = sender.transport
        send = dtls._send_rtp
        dropped: list[int] = []
        delivered: list[int] = []

        async def lossy(data: bytes) -> None:
            is_rtp = not 192 <= data[1] <= 223
            if is_rtp and int.from_bytes(data[8:12], "big") == sender._ssrc:
                sequence = int.from_bytes(data[2:4], "big")
                # Never the first packet: loss counts from the first sequence number
                # received (RFC 3550 A.3), so losing it would be counted as nothing.
                if delivered and sequence % 7 == 0 and len(dropped) < 10:
                    dropped.append(sequence)
                    return
                delivered.append(sequence)
            await send(data)

        dtls._send_rtp = lossy

        def remb() -> tuple[int, list[int]] | None:
            for packet in rtcp:
                if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                    return unpack_remb_fci(packet.fci)
            return None

        await until(lambda: remb() is not None, what="a REMB")
        bitrate, ssrcs = remb()  # type: ignore[misc]
        assert ssrcs == [sender._ssrc]
        assert bitrate == MAX_BITRATE["camera"] + MAX_BITRATE["microphone"]

        await until(lambda: len(dropped) == 10, what="ten packets lost")
        # Reports come once a second: one counts the ten lost, and answers an SR of alice's.
        await asyncio.wait_for(loss_reported.wait(), 10)
        report = await remote()
        # At least the ten dropped here: a loaded machine may lose more on loopback.
        assert report.packetsLost >= 10
        assert report.roundTripTime > 0
    finally:
        await asyncio.wait_for(meeting.close(), 20)


async def test_a_nack_storm_is_answered_within_the_budget_not_packet_for_packet(
    make_meeting,
) -> None:
    """A modified subscriber names every packet it saw, ten times over: the server
    resends a burst and then what its budget grows back by, not ten times the stream.
    The control is the first NACK of the storm, answered in full."""
    meeting: Meeting = make_meeting(camera_check=QUIET)
    try:
        _, bob = await _video_meeting(meeting)
        ssrc = await _inbound_ssrc(bob)
        receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.kind == "video")
        ice = receiver.transport.transport
        original = ice._recv
        seen: list[int] = []

        async def sniff() -> bytes:
            data = await original()
            is_rtp = len(data) > 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223
            if is_rtp and int.from_bytes(data[8:12], "big") == ssrc:
                seen.append(int.from_bytes(data[2:4], "big"))
            return data

        ice._recv = sniff
        await until(lambda: len(set(seen)) >= 120, within=30, what="packets to name")
        named = sorted(set(seen))[-120:]

        def stats() -> Any:
            current = meeting.room.track_stats("alice", "camera")
            assert current is not None
            return current

        before = stats()
        started = time.monotonic()
        await receiver._send_rtcp_nack(ssrc, named)
        await receiver._send_rtcp_pli(ssrc)  # handled after the NACK: marks it done
        await until(
            lambda: stats().keyframe_requests > before.keyframe_requests, what="the first NACK"
        )
        first = stats().packets_retransmitted - before.packets_retransmitted
        assert first == len(named)  # the control: an ordinary NACK, answered in full
        for _ in range(9):
            await receiver._send_rtcp_nack(ssrc, named)
        marked = stats().keyframe_requests
        await receiver._send_rtcp_pli(ssrc)
        await until(lambda: stats().keyframe_requests > marked, what="the storm handled")
        elapsed = time.monotonic() - started
        resent = stats().packets_retransmitted - before.packets_retransmitted
        assert resent <= BURST + RATE * elapsed + 1, (resent, elapsed)
        assert resent < 10 * len(named)
    finally:
        await asyncio.wait_for(meeting.close(), 20)
