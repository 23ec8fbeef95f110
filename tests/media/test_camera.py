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


async def _camera(make_meeting: Callable[..., Meeting], pattern: Pattern | None):
    meeting = make_meeting(camera_check=FAST)
    alice = meeting.publisher("alice")
    track = SyntheticVideoTrack(320, 240, 30, pattern) if pattern else idle_track("video")
    alice.add("camera", track)
    await alice.publish()  # the gate stays closed: the check watches what arrives anyway
    return meeting, track


async def test_moving_camera_reports_its_frame_rate_and_is_never_lost(make_meeting) -> None:
    meeting, _ = await _camera(make_meeting, "moving")
    try:
        monitor = meeting.room.camera_monitor("alice")
        assert monitor is not None
        await until(lambda: monitor.probes >= 3, what="three probes")
        rates = [o.fps for o in _seen(meeting, CameraFrames)() if o.window_seconds >= 0.9]
        assert rates
        assert 27 <= rates[-1] <= 33
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
