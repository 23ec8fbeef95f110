"""Forwarded packets carry the subscriber's own header extensions; REMB comes back.

What a subscriber's aiortc receives at the wire (decrypted, before aiortc parses
it): the mid of its own m-line under the id its answer gave it, abs-send-time
stamped by the server as it sent, never the publisher's ids or values; and
aiortc's receiver, given abs-send-time, estimates the bandwidth and sends REMB,
which the server keeps as the subscriber's ``remb_bitrate``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import CameraCheck
from meetwarden.server.media.header_extensions import (
    ABS_SEND_TIME,
    AUDIO_LEVEL,
    MID,
    abs_send_time,
    extension_ids,
    find_element,
)

from .conftest import Meeting, Subscriber, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

QUIET = CameraCheck(probe_interval=3600.0)


def _capture(bob: Subscriber) -> list[tuple[bytes, int]]:
    """Every decrypted RTP packet bob's transport gets, with abs-send-time at arrival."""
    assert bob.pc.sctp is not None  # the data channel: the only m-line yet
    dtls = bob.pc.sctp.transport
    original = dtls._handle_rtp_data
    seen: list[tuple[bytes, int]] = []

    async def capture(data: bytes, arrival_time_ms: int) -> None:
        seen.append((data, abs_send_time()))
        await original(data, arrival_time_ms)

    dtls._handle_rtp_data = capture
    return seen


def _mid_of_offer(alice: Any, source: str) -> str:
    return next(mid for mid, wanted in alice.sources().items() if wanted == source)


def _mid_of(bob: Subscriber, source: str) -> str:
    return next(mid for mid, track in bob.tracks.items() if track == ("alice", source))


async def _meeting(meeting: Meeting) -> tuple[Any, Subscriber, list[tuple[bytes, int]]]:
    # bob first: his data channel takes mid 0, so alice's tracks get other mids at bob.
    bob = await meeting.subscriber("bob")
    await bob.connected()
    seen = _capture(bob)
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    meeting.room.set_gate("alice", "microphone", True)
    alice = meeting.publisher("alice")
    alice.add("microphone", SyntheticAudioTrack())
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    await until(lambda: bob.got("alice", "camera").frames >= 10, what="video")
    return alice, bob, seen


async def test_forwarded_packets_carry_the_subscribers_mid_and_a_fresh_send_time(
    make_meeting,
) -> None:
    meeting: Meeting = make_meeting(camera_check=QUIET)
    try:
        alice, bob, seen = await _meeting(meeting)
        await until(lambda: len(seen) >= 100, what="packets at bob")
        answer = extension_ids(bob.pc.localDescription.sdp, sending=False)
        published = extension_ids(alice.pc.localDescription.sdp, sending=True)
        camera, microphone = _mid_of(bob, "camera"), _mid_of(bob, "microphone")
        mid_id, abs_id = answer[camera][MID], answer[camera][ABS_SEND_TIME]
        by_ssrc: dict[int, set[bytes | None]] = {}
        stamps = 0
        for data, arrived in seen:
            ssrc = int.from_bytes(data[8:12], "big")
            mid = find_element(data, mid_id)
            by_ssrc.setdefault(ssrc, set()).add(mid)
            stamp = find_element(data, abs_id)
            if mid == microphone.encode():  # bob's audio m-line negotiated no send time
                assert stamp is None
                # alice's aiortc writes her level under this id; it is not copied.
                assert find_element(data, answer[microphone][AUDIO_LEVEL]) is None
            else:
                assert stamp is not None
                # Stamped when the server sent it: at most a second before bob read it.
                assert (arrived - int.from_bytes(stamp, "big")) & 0xFFFFFF < 262144
                stamps += 1
        assert stamps > 0
        # Each stream carries bob's own mid for it, not the one alice's offer gave it.
        assert sorted(by_ssrc.values(), key=sorted) == sorted(
            [{camera.encode()}, {microphone.encode()}], key=sorted
        )
        assert published[_mid_of_offer(alice, "camera")] == {MID: 1, ABS_SEND_TIME: 3}
        assert {camera, microphone}.isdisjoint({"0"})
        assert camera != "1"
    finally:
        await asyncio.wait_for(meeting.close(), 20)


async def test_subscriber_answers_forwarded_video_with_remb(make_meeting) -> None:
    meeting: Meeting = make_meeting(camera_check=QUIET)
    try:
        await _meeting(meeting)
        participant = meeting.room._participants["bob"]
        subscriber = participant.subscriber
        assert subscriber is not None
        assert subscriber.remb_bitrate is None or subscriber.remb_bitrate > 0
        await until(lambda: subscriber.remb_bitrate is not None, within=15, what="a REMB from bob")
        assert subscriber.remb_bitrate is not None
        assert subscriber.remb_bitrate > 0
        assert subscriber.remb_at is not None
    finally:
        await asyncio.wait_for(meeting.close(), 20)
