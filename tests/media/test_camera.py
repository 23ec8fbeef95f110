"""The camera check: frame rate from RTP, black and frozen from one decoded keyframe per probe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from meetwarden.client_sdk.synthetic import Pattern, SyntheticVideoTrack
from meetwarden.server.media import (
    CameraCheck,
    CameraFrames,
    CameraLost,
    CameraRestored,
    Observation,
)
from meetwarden.server.media.aiortc_seam import idle_track

from .conftest import Meeting, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

FAST = CameraCheck(
    report_interval=0.25, window=1.0, stall_after=1.0, probe_interval=0.5, frozen_probes=3
)


def _seen(meeting: Meeting, kind: type) -> Callable[[], list[Observation]]:
    return lambda: [o for o in meeting.observations if isinstance(o, kind)]


def _frame_times(track: object) -> list[float]:
    """When each frame left the camera (loop time), recorded as the sender reads it."""
    assert isinstance(track, SyntheticVideoTrack)
    times: list[float] = []
    recv = track.recv

    async def counted():  # type: ignore[no-untyped-def]
        frame = await recv()
        times.append(asyncio.get_running_loop().time())
        return frame

    track.recv = counted  # type: ignore[method-assign]
    return times


async def _camera(make_meeting: Callable[..., Meeting], pattern: Pattern | None):
    meeting = make_meeting(camera_check=FAST)
    alice = meeting.publisher("alice")
    track = SyntheticVideoTrack(320, 240, 30, pattern) if pattern else idle_track("video")
    alice.add("camera", track)
    await alice.publish()  # the gate stays closed: the check watches what arrives anyway
    return meeting, track


async def test_moving_camera_reports_its_frame_rate_and_is_never_lost(make_meeting) -> None:
    meeting, track = await _camera(make_meeting, "moving")
    sent = _frame_times(track)
    try:
        monitor = meeting.room.camera_monitor("alice")
        assert monitor is not None
        await until(lambda: monitor.probes >= 3, what="three probes")
        rates = [o.fps for o in _seen(meeting, CameraFrames)() if o.window_seconds >= 0.9]
        assert rates
        # The rate the camera really delivered over the last second (30 fps asked; fewer on
        # a machine too busy to make them), against the last report (at most 0.25 s old).
        now = asyncio.get_running_loop().time()
        delivered = sum(1 for at in sent if at > now - 1.0)
        assert abs(rates[-1] - delivered) <= 2 + 0.3 * delivered, (rates[-1], delivered)
        assert delivered >= 5, "the synthetic camera hardly sent: nothing was measured"
        assert _seen(meeting, CameraLost)() == []
    finally:
        await asyncio.wait_for(meeting.close(), 20)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(None, "no_video"), ("frozen", "frozen"), ("black", "black")],
)
async def test_camera_that_sends_nothing_frozen_or_black_is_reported_lost(
    make_meeting, pattern: Pattern | None, reason: str
) -> None:
    meeting, _ = await _camera(make_meeting, pattern)
    try:
        await until(lambda: bool(_seen(meeting, CameraLost)()), within=5, what=reason)
        assert _seen(meeting, CameraLost)() == [CameraLost("alice", reason)]  # type: ignore[arg-type]
    finally:
        await asyncio.wait_for(meeting.close(), 20)


async def test_black_camera_that_starts_moving_is_restored(make_meeting) -> None:
    meeting, track = await _camera(make_meeting, "black")
    try:
        await until(lambda: bool(_seen(meeting, CameraLost)()), within=5, what="black")
        assert isinstance(track, SyntheticVideoTrack)
        track.pattern = "moving"
        await until(lambda: bool(_seen(meeting, CameraRestored)()), within=5, what="restored")
        # what a probe costs is measured by bench/media_camera_check.py, not asserted here
    finally:
        await asyncio.wait_for(meeting.close(), 20)
