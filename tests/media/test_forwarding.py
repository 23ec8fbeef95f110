"""A subscriber receives what a publisher sends, through the plane, without re-encoding."""

from __future__ import annotations

import asyncio
import time

import pytest

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import Source

from .conftest import Meeting, Subscriber, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_subscriber_receives_video_and_audio_at_the_rate_and_size_sent(
    meeting: Meeting, decode_errors
) -> None:
    alice = meeting.publisher("alice")
    alice.add(Source.CAMERA, SyntheticVideoTrack(640, 480, 30))
    alice.add(Source.MICROPHONE, SyntheticAudioTrack())
    meeting.plane.set_gate("alice", Source.CAMERA, True)
    meeting.plane.set_gate("alice", Source.MICROPHONE, True)
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", Source.CAMERA)
    audio = bob.got("alice", Source.MICROPHONE)
    await until(lambda: video.frames >= 10 and audio.frames >= 10, what="first media")
    start_video, start_audio = video.frames, audio.frames
    start = video.arrivals[-1]
    await until(lambda: video.frames >= start_video + 60, what="two seconds of video")
    seconds = video.arrivals[-1] - start
    fps = (video.frames - start_video) / seconds
    assert 28.5 <= fps <= 31.5
    assert video.sizes == {(640, 480)}
    assert decode_errors.count == 0
    audio_frames = audio.frames - start_audio
    assert audio_frames / seconds > 40  # 50 Opus frames per second, give or take scheduling


async def _camera_and_microphone(meeting: Meeting, size: tuple[int, int] = (320, 240)):
    alice = meeting.publisher("alice")
    camera = SyntheticVideoTrack(*size, 30)
    alice.add(Source.CAMERA, camera)
    alice.add(Source.MICROPHONE, SyntheticAudioTrack())
    await alice.publish()
    return alice, camera


async def test_video_resumes_within_a_frame_and_a_round_trip_after_a_gate_cycle(
    meeting: Meeting, decode_errors
) -> None:
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", Source.CAMERA)
    await until(lambda: video.frames >= 15, what="video before the cycle")
    for _ in range(2):
        plane.set_gate("alice", Source.CAMERA, False)
        stats = plane.track_stats("alice", Source.CAMERA)
        assert stats is not None
        await until(
            lambda s=stats: (
                plane.track_stats("alice", Source.CAMERA).packets_received  # type: ignore[union-attr]
                > s.packets_received + 30
            ),
            what="publisher keeps sending while closed",
        )
        frames_before = video.frames
        opened = time.monotonic()
        plane.set_gate("alice", Source.CAMERA, True)
        await until(lambda n=frames_before: video.frames > n, within=2, what="first frame")
        resumed = video.arrivals[-1] - opened
        # 1 frame interval (33 ms) + loopback RTT + one jitter-buffer frame at the subscriber,
        # with slack for a loaded 2-core machine.
        assert resumed < 0.25, f"resumed after {resumed * 1000:.0f} ms"
        await until(lambda n=frames_before: video.frames >= n + 30, within=2, what="no stall")
    assert decode_errors.count == 0


async def test_closed_gate_forwards_nothing_after_the_close(meeting: Meeting) -> None:
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)
    plane.set_gate("alice", Source.MICROPHONE, True)
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    audio = bob.got("alice", Source.MICROPHONE)
    await until(lambda: audio.frames >= 10, what="audio before the mute")
    plane.set_gate("alice", Source.MICROPHONE, False)  # host mutes alice
    forwarded = plane.track_stats("alice", Source.MICROPHONE)
    assert forwarded is not None
    settled = await _settled_count(bob, "alice", Source.MICROPHONE)
    received = plane.track_stats("alice", Source.MICROPHONE)
    await until(
        lambda: (
            plane.track_stats("alice", Source.MICROPHONE).packets_received  # type: ignore[union-attr]
            >= received.packets_received + 50
        ),  # type: ignore[union-attr]
        what="alice keeps sending audio after the mute",
    )
    after = plane.track_stats("alice", Source.MICROPHONE)
    assert after is not None
    assert after.packets_forwarded == forwarded.packets_forwarded
    assert await bob.packets("alice", Source.MICROPHONE) == settled


async def _settled_count(bob: Subscriber, participant_id: str, source: Source) -> int:
    """The subscriber's packet count once packets already in flight have arrived."""
    previous = -1
    count = await bob.packets(participant_id, source)
    while count != previous:
        previous = count
        await asyncio.sleep(0.05)  # no event says "nothing more in flight": wait for quiet
        count = await bob.packets(participant_id, source)
    return count


async def test_muted_client_that_keeps_sending_is_not_forwarded(meeting: Meeting) -> None:
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)  # the microphone gate is never opened
    await _camera_and_microphone(meeting)
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", Source.CAMERA)
    await until(lambda: video.frames >= 30, what="a second of video")
    received = plane.track_stats("alice", Source.MICROPHONE)
    assert received is not None
    assert received.packets_received > 20
    assert received.packets_forwarded == 0
    assert await bob.packets("alice", Source.MICROPHONE) == 0
    assert bob.got("alice", Source.MICROPHONE).frames == 0


async def test_screen_published_without_a_grant_is_not_forwarded(meeting: Meeting) -> None:
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)
    alice = meeting.publisher("alice")
    alice.add(Source.CAMERA, SyntheticVideoTrack(320, 240, 30))
    alice.add(Source.SCREEN, SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    camera = bob.got("alice", Source.CAMERA)
    await until(lambda: camera.frames >= 30, what="camera video")
    screen = plane.track_stats("alice", Source.SCREEN)
    assert screen is not None
    assert screen.packets_received > 30
    assert await bob.packets("alice", Source.SCREEN) == 0
    assert bob.got("alice", Source.SCREEN).frames == 0
    # The grant arrives: the screen is forwarded from its next keyframe.
    plane.set_gate("alice", Source.SCREEN, True)
    shared = bob.got("alice", Source.SCREEN)
    await until(lambda: shared.frames >= 5, within=3, what="screen after the grant")


async def test_new_subscriber_gets_a_decodable_frame_at_once_from_the_cache(
    meeting: Meeting, decode_errors
) -> None:
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)
    await _camera_and_microphone(meeting)
    first = await meeting.subscriber("bob")
    await until(lambda: first.got("alice", Source.CAMERA).frames >= 10, what="bob's video")
    requests = plane.track_stats("alice", Source.CAMERA).keyframe_requests  # type: ignore[union-attr]
    started = time.monotonic()
    carol = await meeting.subscriber("carol")
    video = carol.got("alice", Source.CAMERA)
    await until(lambda: video.frames >= 1, within=3, what="carol's first frame")
    waited = video.arrivals[0] - started
    # The join was served from the cache: no keyframe had to be asked for.
    assert plane.track_stats("alice", Source.CAMERA).keyframe_requests == requests  # type: ignore[union-attr]
    assert waited < 1.0, f"first frame after {waited * 1000:.0f} ms"
    await until(lambda: video.frames >= 30, within=3, what="carol's video keeps coming")
    assert decode_errors.count == 0
