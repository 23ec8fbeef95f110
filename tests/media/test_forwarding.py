"""A subscriber receives what a publisher sends, through the plane, without re-encoding."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import CameraCheck

from .conftest import TIMEOUT, Meeting, settled_packets, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_subscriber_receives_video_and_audio_at_the_rate_and_size_sent(
    meeting: Meeting, decode_errors
) -> None:
    alice = meeting.publisher("alice")
    camera = SyntheticVideoTrack(640, 480, 30)
    alice.add("camera", camera)
    alice.add("microphone", SyntheticAudioTrack())
    meeting.room.set_gate("alice", "camera", True)
    meeting.room.set_gate("alice", "microphone", True)
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    audio = bob.got("alice", "microphone")
    await until(lambda: video.frames >= 10 and audio.frames >= 10, what="first media")
    start_video, start_audio = video.frames, audio.frames
    start, sent_before = video.arrivals[-1], camera.frames_sent
    await until(lambda: video.frames >= start_video + 60, what="two seconds of video")
    seconds = video.arrivals[-1] - start
    # Every frame the camera made meanwhile arrives (30 fps asked; a busy machine makes
    # fewer, and sends them late in bursts), give or take those in flight at either end.
    received, sent = video.frames - start_video, camera.frames_sent - sent_before
    assert abs(received - sent) <= 5, (received, sent)
    assert video.sizes == {(640, 480)}
    assert decode_errors.count == 0
    audio_frames = audio.frames - start_audio
    assert audio_frames / seconds > 40  # 50 Opus frames per second, give or take scheduling


async def _camera_and_microphone(meeting: Meeting, size: tuple[int, int] = (320, 240)):
    alice = meeting.publisher("alice")
    camera = SyntheticVideoTrack(*size, 30)
    alice.add("camera", camera)
    alice.add("microphone", SyntheticAudioTrack())
    await alice.publish()
    return alice, camera


async def test_video_resumes_within_a_frame_and_a_round_trip_after_a_gate_cycle(
    meeting: Meeting, decode_errors
) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 15, what="video before the cycle")
    for _ in range(2):
        room.set_gate("alice", "camera", False)
        stats = room.track_stats("alice", "camera")
        assert stats is not None
        await until(
            lambda s=stats: (
                room.track_stats("alice", "camera").packets_received  # type: ignore[union-attr]
                > s.packets_received + 30
            ),
            what="publisher keeps sending while closed",
        )
        frames_before = video.frames
        opened = time.monotonic()
        room.set_gate("alice", "camera", True)
        await until(lambda n=frames_before: video.frames > n, within=2, what="first frame")
        resumed = video.arrivals[-1] - opened
        # 1 frame interval (33 ms) + loopback RTT + one jitter-buffer frame at the subscriber,
        # with slack for a loaded 2-core machine.
        assert resumed < 0.25, f"resumed after {resumed * 1000:.0f} ms"
        await until(lambda n=frames_before: video.frames >= n + 30, within=2, what="no stall")
    assert decode_errors.count == 0


async def test_closed_gate_forwards_nothing_after_the_close(meeting: Meeting) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    room.set_gate("alice", "microphone", True)
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    audio = bob.got("alice", "microphone")
    await until(lambda: audio.frames >= 10, what="audio before the mute")
    room.set_gate("alice", "microphone", False)  # host mutes alice
    forwarded = room.track_stats("alice", "microphone")
    assert forwarded is not None
    settled = await settled_packets(bob, "alice", "microphone")
    received = room.track_stats("alice", "microphone")
    await until(
        lambda: (
            room.track_stats("alice", "microphone").packets_received  # type: ignore[union-attr]
            >= received.packets_received + 50
        ),  # type: ignore[union-attr]
        what="alice keeps sending audio after the mute",
    )
    after = room.track_stats("alice", "microphone")
    assert after is not None
    assert after.packets_forwarded == forwarded.packets_forwarded
    assert await bob.packets("alice", "microphone") == settled


async def test_muted_client_that_keeps_sending_is_not_forwarded(meeting: Meeting) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)  # the microphone gate is never opened
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 30, what="a second of video")
    received = room.track_stats("alice", "microphone")
    assert received is not None
    assert received.packets_received > 20
    assert received.packets_forwarded == 0
    assert await bob.packets("alice", "microphone") == 0
    assert bob.got("alice", "microphone").frames == 0


async def test_screen_published_without_a_grant_is_not_forwarded(meeting: Meeting) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    alice.add("screen", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    camera = bob.got("alice", "camera")
    await until(lambda: camera.frames >= 30, what="camera video")
    screen = room.track_stats("alice", "screen")
    assert screen is not None
    assert screen.packets_received > 30
    assert await bob.packets("alice", "screen") == 0
    assert bob.got("alice", "screen").frames == 0
    # The grant arrives: the screen is forwarded from its next keyframe.
    room.set_gate("alice", "screen", True)
    shared = bob.got("alice", "screen")
    await until(lambda: shared.frames >= 5, within=3, what="screen after the grant")


@pytest.fixture
async def quiet_meeting() -> AsyncIterator[Meeting]:
    """A meeting whose camera check never probes: each probe asks the camera for a keyframe
    (every 3 s by default), which a test counting the keyframes a join asked for would
    count with them (a loaded CI machine took that long between the two readings)."""
    room = Meeting(CameraCheck(probe_interval=3600.0))
    yield room
    await asyncio.wait_for(room.close(), TIMEOUT)


async def test_new_subscriber_gets_a_decodable_frame_at_once_from_the_cache(
    quiet_meeting: Meeting, decode_errors
) -> None:
    meeting = quiet_meeting
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    await _camera_and_microphone(meeting)
    first = await meeting.subscriber("bob")
    await until(lambda: first.got("alice", "camera").frames >= 10, what="bob's video")
    requests = room.track_stats("alice", "camera").keyframe_requests  # type: ignore[union-attr]
    started = time.monotonic()
    carol = await meeting.subscriber("carol")
    video = carol.got("alice", "camera")
    await until(lambda: video.frames >= 1, within=3, what="carol's first frame")
    waited = video.arrivals[0] - started
    # The join was served from the cache: no keyframe had to be asked for.
    assert room.track_stats("alice", "camera").keyframe_requests == requests  # type: ignore[union-attr]
    assert waited < 1.0, f"first frame after {waited * 1000:.0f} ms"
    await until(lambda: video.frames >= 30, within=3, what="carol's video keeps coming")
    assert decode_errors.count == 0
