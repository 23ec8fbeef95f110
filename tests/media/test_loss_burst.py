"""A viewer whose device drops most packets for a second or two gets its camera back.

The viewer's link goes through the impairment relay (tests/support/impair.py); the
publisher sends a camera at a fixed 500 kbit/s and a microphone. Midway, the link
to the viewer loses 80 % of its datagrams until the server has paused the camera
for that viewer (a starved browser, a Wi-Fi hiccup), then is clear again. Counted at
the viewer's decoder: frames decoded after the loss ended. One video packet of the
burst never arrives, nor any retransmission of it, until the link is clear: the
server resends what the viewer still misses when the camera resumes (an aiortc
receiver names a missing packet only when a new gap appears, and only within 128 of
its newest, and would wait for 512 later packets, about ten seconds, before it
decoded again).

Before the estimate went back to what the link had carried (``bandwidth``, a
recovery), its limit regrew 5 % a second from 60 % of the rate, and the camera
resumed only once that regrowth had room for it: 7 to 20 s after the
link was clear. Nothing here is timed: the test checks what the camera came back
on (the recovery) and counts the video packets the viewer took in before it
decoded again (a blocked receiver takes in hundreds).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support.impair import CLEAR, Impairment, rtp_header
from support.network_meeting import NetworkMeeting, RoomEndpoint, Scenario

from meetwarden.server.media import MediaPlane, Observation
from meetwarden.server.media.events import VideoPaused

from .conftest import LINK_TEST_SIZE, QUIET_CAMERA_CHECK, until

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.alone,
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("camera_at_500_kbits"),
]

WITHIN = 60.0
"""Seconds the test waits for the camera to come back: only how long it lets things
happen (the recovery takes about 4 s, the regrowth before it 7 to 20)."""
NACK_HISTORY = 128
"""The missing packets an aiortc receiver still names (rtp.py ``RTP_HISTORY_SIZE``);
its jitter buffer waits for a hole until 512 packets came after it."""
LOSSY = Impairment(loss=0.8)
VIDEO_SIZE = 600
"""Bytes above which a datagram is video (the camera's packets are about 1,100 bytes, the
microphone's under 300)."""


def _one_packet_never_repaired() -> Callable[[bytes], bool]:
    """Drops the first video packet to cross and every retransmission of it (the server
    resends on the same SSRC and number): a hole left when the camera is paused."""
    chosen: list[tuple[int, int]] = []

    def drop(data: bytes) -> bool:
        header = rtp_header(data)
        if header is None:
            return False
        ssrc, seq, _ = header
        if not chosen and len(data) > VIDEO_SIZE:
            chosen.append((ssrc, seq))
        return (ssrc, seq) in chosen

    return drop


@pytest.fixture
async def network() -> AsyncIterator[tuple[Any, NetworkMeeting, list[Observation]]]:
    plane = MediaPlane(camera_check=QUIET_CAMERA_CHECK)
    observations: list[Observation] = []
    room = plane.room("meeting", on_observation=observations.append)
    meeting = NetworkMeeting(
        RoomEndpoint(room),
        Scenario("80 % lost until the pause", "subscriber"),
        viewers=1,
        size=LINK_TEST_SIZE,
        audio=True,
    )
    await meeting.start()
    yield room, meeting, observations
    await meeting.close()
    await room.close()
    await plane.close()


async def test_a_viewer_that_lost_a_burst_of_packets_gets_its_camera_back(network) -> None:
    await _camera_back_after_a_burst(*network, hole_before_the_burst=False)


async def test_a_hole_the_viewer_stopped_naming_before_the_pause_is_filled_too(network) -> None:
    """The pause comes late (a busy machine): more than 128 packets after a hole, so the
    viewer's last NACK before it no longer names the hole (its NACK window, rtp.py
    ``RTP_HISTORY_SIZE``). Here the hole comes on a clear link, 150 packets before the
    burst: the server still resends it when the camera resumes."""
    await _camera_back_after_a_burst(*network, hole_before_the_burst=True)


async def _camera_back_after_a_burst(
    room: Any, meeting: NetworkMeeting, observations: list[Observation], hole_before_the_burst: bool
) -> None:
    viewer = meeting.viewers[0]
    bandwidth = room.subscriber_bandwidth("viewer-0")
    assert bandwidth is not None
    # A viewer that has watched for a while: its reports told the server that its link
    # carried the camera without loss.
    await until(
        lambda: bandwidth.estimate.clean_intervals >= 2,
        within=20,
        what=lambda: f"two clean intervals (loss {bandwidth.estimate.last_loss})",
    )
    viewer.record = True
    video = viewer.ssrc_of("video")
    meeting.link.down.drop_if = _one_packet_never_repaired()
    if hole_before_the_burst:
        await until(
            lambda: sum(1 for a in viewer.arrivals if a.ssrc == video) > NACK_HISTORY + 22,
            within=20,
            what="150 video packets after the hole",
        )
    meeting.link.set(CLEAR, LOSSY)
    await until(
        lambda: bandwidth.pauses >= 1,
        within=20,
        what=lambda: f"a pause (loss {bandwidth.estimate.last_loss})",
    )
    # When the camera resumes: did the estimate go back to what the link carried?
    recovered: list[bool] = []
    resumed_at: list[float] = []
    seen: list[str] = []  # the estimate when the camera resumed, for a failure's message
    told_before = bandwidth.on_change

    def heard(track: Any, paused: bool) -> None:
        if not paused:
            estimate = bandwidth.estimate
            recovered.append(estimate.recovered)
            resumed_at.append(time.monotonic())
            seen.append(
                f"{estimate.decreases} decreases, {estimate.recoveries} recoveries, last loss "
                f"{estimate.last_loss}, {estimate.clean_intervals} clean intervals, limit "
                f"{estimate.loss_limit} (steady {estimate.steady_limit}), "
                f"{bandwidth.pauses} pauses"
            )
        if told_before is not None:
            told_before(track, paused)

    bandwidth.on_change = heard
    meeting.link.set(CLEAR, CLEAR)
    meeting.link.down.drop_if = None
    # The server paused the camera for the viewer: it decodes nothing more for now.
    await until(
        lambda: bool(resumed_at) and any(t > resumed_at[0] for t in viewer.log.times),
        within=WITHIN,
        what=lambda: (
            f"the camera back: {bandwidth.resumes} resumes, "
            f"limit {bandwidth.available_bitrate()} bit/s"
        ),
    )
    assert recovered[0], f"resumed on regrowth, not on the rate the link carried: {seen[0]}"
    first_frame = next(t for t in viewer.log.times if t > resumed_at[0])
    arrived = [a.at for a in viewer.arrivals if a.ssrc == video]
    taken_in = sum(1 for at in arrived if resumed_at[0] < at < first_frame)
    assert taken_in < NACK_HISTORY, (
        f"{taken_in} video packets arrived before a frame decoded (resumed with {seen[0]})"
    )
    told = [o for o in observations if isinstance(o, VideoPaused)]
    assert told[:2] == [
        VideoPaused("viewer-0", "publisher", "camera", paused=True),
        VideoPaused("viewer-0", "publisher", "camera", paused=False),
    ], "the viewer is told its camera view was paused, then that it is back"
