"""A viewer whose device drops most packets for a second or two gets its camera back.

The viewer's link goes through the impairment relay (tests/support/impair.py); the
publisher sends a camera at a fixed 500 kbit/s and a microphone. Midway, the link
to the viewer loses 80 % of its datagrams until the server has paused the camera
for that viewer (a starved browser, a Wi-Fi hiccup), then is clear again. Counted at
the viewer's decoder: frames decoded after the loss ended. One video packet of the
burst never arrives, nor any retransmission of it, until the link is clear: the
server resends what the viewer's last NACK named when the camera resumes (an aiortc
receiver names a missing packet only when a new gap appears, and would wait for 512
later packets, about ten seconds, before it decoded again).

Before the estimate went back to what the link had carried (``bandwidth``, a
recovery), its limit regrew 5 % a second from 60 % of the rate: the camera stayed
paused for about a quarter of a minute after the link was clear. No timing is
asserted: the window is only how long the test lets things happen.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiortc.codecs.vpx
import pytest
from support.impair import CLEAR, Impairment, rtp_header
from support.network_meeting import NetworkMeeting, RoomEndpoint, Scenario

from meetwarden.server.media import CameraCheck, MediaPlane, Observation
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate
from meetwarden.server.media.events import VideoPaused

from .conftest import until

pytestmark = [pytest.mark.anyio, pytest.mark.alone, pytest.mark.timeout(120)]

QUIET = CameraCheck(report_interval=3600.0, probe_interval=3600.0)
SIZE = (320, 240)
WINDOW = 8.0
"""Seconds after the loss in which the camera must be back (before, it took about 15)."""
LOSSY = Impairment(loss=0.8)
VIDEO_SIZE = 600
"""Bytes above which a datagram is video (the camera's packets are about 1,100 bytes, the
microphone's under 300)."""


@pytest.fixture(autouse=True)
def camera_at_500_kbits() -> Iterator[None]:
    """aiortc's VP8 encoder at 500 kbit/s whatever the REMB says (restored afterwards)."""
    vpx: Any = aiortc.codecs.vpx
    saved = vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE
    pin_vp8_bitrate(500_000)
    yield
    vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE = saved


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
    plane = MediaPlane(camera_check=QUIET)
    observations: list[Observation] = []
    room = plane.room("meeting", on_observation=observations.append)
    meeting = NetworkMeeting(
        RoomEndpoint(room),
        Scenario("80 % lost until the pause", "subscriber"),
        viewers=1,
        size=SIZE,
        audio=True,
    )
    await meeting.start()
    yield room, meeting, observations
    await meeting.close()
    await room.close()
    await plane.close()


async def test_a_viewer_that_lost_a_burst_of_packets_gets_its_camera_back(network) -> None:
    room, meeting, observations = network
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
    meeting.link.down.drop_if = _one_packet_never_repaired()
    meeting.link.set(CLEAR, LOSSY)
    await until(
        lambda: bandwidth.pauses >= 1,
        within=20,
        what=lambda: f"a pause (loss {bandwidth.estimate.last_loss})",
    )
    meeting.link.set(CLEAR, CLEAR)
    meeting.link.down.drop_if = None
    clear_at = time.monotonic()
    # The server paused the camera for the viewer: it decodes nothing more for now.
    decoded = len(viewer.log.times)
    await until(
        lambda: bandwidth.resumes >= 1 and len(viewer.log.times) >= decoded + 30,
        within=WINDOW,
        what=lambda: (
            f"the camera back: {bandwidth.resumes} resumes, "
            f"{len(viewer.log.times) - decoded} frames decoded since the pause, "
            f"limit {bandwidth.available_bitrate()} bit/s; "
            f"{sum(1 for at, _ in viewer.arrivals if at > clear_at)} RTP packets arrived since"
            f" the link cleared; keyframe requests {meeting.publisher.keyframe_requests}"
        ),
    )
    assert bandwidth.estimate.recoveries >= 1
    back = [t for t in viewer.log.times if t > clear_at]
    assert len(back) >= 30, "frames decoded after the link was clear"
    told = [o for o in observations if isinstance(o, VideoPaused)]
    assert told[:2] == [
        VideoPaused("viewer-0", "publisher", "camera", paused=True),
        VideoPaused("viewer-0", "publisher", "camera", paused=False),
    ], "the viewer is told its camera view was paused, then that it is back"
