"""One viewer behind a 300 kbit/s link, two with no limit: what each of them receives.

The constrained viewer's link goes through the impairment relay with a token-bucket
rate limit on the way to it (tests/support/impair.py); the publisher sends a
camera at a fixed 500 kbit/s and a microphone. Counted at the wire and at the
decoder: frames and their sizes at every viewer, the audio packets that reach
the constrained viewer. Shown beside the server with no bandwidth control
(``MediaPlane(bandwidth_control=False)``), where the same link carries the
camera it cannot take and the viewer's audio is lost with it. No timing is
asserted: a window is only how long the test lets things happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support.frame_log import ViewerFigures
from support.impair import CLEAR, Impairment
from support.network_meeting import NetworkMeeting, RoomEndpoint, Scenario, Viewer

from meetwarden.server.media import MediaPlane, Observation
from meetwarden.server.media.events import VideoPaused

from .conftest import LINK_TEST_SIZE, QUIET_CAMERA_CHECK, until

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.alone,
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("camera_at_500_kbits"),
]

WINDOW = 12.0
CONSTRAINED = Scenario("300 kbit/s, one viewer", "subscriber", CLEAR, Impairment(rate=300_000))


class Meeting:
    def __init__(self, bandwidth_control: bool, viewers: int = 3) -> None:
        self.plane = MediaPlane(
            camera_check=QUIET_CAMERA_CHECK, bandwidth_control=bandwidth_control
        )
        self.observations: list[Observation] = []
        self.room = self.plane.room("meeting", on_observation=self.observations.append)
        self.network = NetworkMeeting(
            RoomEndpoint(self.room), CONSTRAINED, viewers=viewers, size=LINK_TEST_SIZE, audio=True
        )

    async def run(self) -> list[ViewerFigures]:
        await self.network.start()
        publisher = self.network.publisher
        assert publisher is not None
        publisher.record = True
        for viewer in self.network.viewers:
            viewer.record = True
        try:
            return await self.network.run(WINDOW)
        finally:
            publisher.record = False

    async def close(self) -> None:
        await self.network.close()
        await self.room.close()
        await self.plane.close()


@pytest.fixture
async def meetings() -> AsyncIterator[Callable[..., Any]]:
    opened: list[Meeting] = []

    async def meeting(bandwidth_control: bool, viewers: int = 3) -> Meeting:
        made = Meeting(bandwidth_control, viewers)
        opened.append(made)
        return made

    yield meeting
    for made in opened:
        await asyncio.wait_for(made.close(), 20)


def _audio_packets(viewer: Viewer, start: float, end: float) -> int:
    ssrc = viewer.ssrc_of("audio")
    return sum(1 for a in viewer.arrivals if a.ssrc == ssrc and start <= a.at <= end)


async def _every_camera_packet_reached_the_others(meeting: Meeting) -> None:
    """Every camera packet the publisher sent in the window reached viewers 1 and 2."""
    publisher = meeting.network.publisher
    assert publisher is not None
    sent = set(publisher.sent.values())
    assert sent, "the camera sent in the window"
    others = meeting.network.viewers[1:]
    await until(
        lambda: all(sent <= viewer.payloads for viewer in others),
        what="every camera packet at the unconstrained viewers",
    )


def _heard(meeting: Meeting) -> tuple[int, int]:
    """Audio packets that reached the constrained viewer and an unconstrained one in the
    second half of the window (the first holds the link's reaction)."""
    network = meeting.network
    assert network.window is not None
    start, end = network.window
    half = (start + end) / 2
    return (
        _audio_packets(network.viewers[0], half, end),
        _audio_packets(network.viewers[1], half, end),
    )


def _late_and_lost(viewer: Viewer, start: float, end: float) -> tuple[float, float]:
    """This viewer's audio in the second half of the window: the median lag (how much
    later each packet arrived than its RTP timestamp says, beyond the least delayed of the
    window's packets; Opus's clock is 48 kHz, RFC 7587 4.1) and the share lost (the gaps in
    its sequence numbers, RFC 3550 A.3)."""
    ssrc = viewer.ssrc_of("audio")
    audio = [a for a in viewer.arrivals if a.ssrc == ssrc and start <= a.at <= end]
    assert audio, f"{viewer.name} received audio in the window"
    first = audio[0]
    offsets = [
        (a.at - first.at) - ((a.timestamp - first.timestamp) % 2**32) / 48_000 for a in audio
    ]
    least = min(offsets)
    half = (start + end) / 2
    lags = sorted(o - least for a, o in zip(audio, offsets, strict=True) if a.at >= half)
    numbers = {a.sequence for a in audio if a.at >= half}
    # The sequence numbers wrap at 2**16; counted from the first of the half.
    base = next(a.sequence for a in audio if a.at >= half)
    span = max((n - base) % 2**16 for n in numbers) + 1
    return lags[len(lags) // 2], 1 - len(numbers) / span


async def test_a_constrained_viewer_costs_the_others_nothing_and_keeps_its_audio(
    meetings,
) -> None:
    meeting = await meetings(bandwidth_control=True)
    constrained, *others = await meeting.run()
    network = meeting.network
    # The others: every camera packet, every frame decoded at the camera's size.
    await _every_camera_packet_reached_the_others(meeting)
    for figures, viewer in zip(others, network.viewers[1:], strict=True):
        assert set(viewer.sizes) == {LINK_TEST_SIZE}
        assert figures.frames > 2 * constrained.frames, (figures, constrained)
    for other in ("viewer-1", "viewer-2"):
        bandwidth = meeting.room.subscriber_bandwidth(other)
        assert bandwidth is not None
        assert bandwidth.pauses == 0
    # The constrained viewer: its video paused by the server, its audio on.
    bandwidth = meeting.room.subscriber_bandwidth("viewer-0")
    assert bandwidth is not None
    assert bandwidth.pauses >= 1
    assert bandwidth.available_bitrate() is not None
    # ... and told so (the runtime turns it into a notice for that subscriber alone).
    told = [o for o in meeting.observations if isinstance(o, VideoPaused)]
    assert told
    assert told[0] == VideoPaused("viewer-0", "publisher", "camera", paused=True)
    assert {o.participant_id for o in told} == {"viewer-0"}
    heard, control = _heard(meeting)
    assert control > 0
    assert heard >= 0.9 * control, (heard, control)
    # The publisher is asked for what the others can take, not what the slow one can.
    publisher = network.publisher
    assert publisher is not None
    assert publisher.remb
    assert publisher.remb[-1] >= 500_000, publisher.remb


async def test_without_bandwidth_control_the_constrained_viewer_loses_its_audio_too(
    meetings,
) -> None:
    """The control: the same link, the server forwarding everything to it. The link's
    queue stays full, so the audio arrives as late as the queue is long (64 kB at 300 kbit/s:
    1.7 s) and loses what the tail drops; small packets squeeze in where a video packet
    does not fit, so the audio loses about an eighth, where the video loses most."""
    meeting = await meetings(bandwidth_control=False)
    await meeting.run()
    await _every_camera_packet_reached_the_others(meeting)
    bandwidth = meeting.room.subscriber_bandwidth("viewer-0")
    assert bandwidth is not None
    assert bandwidth.pauses == 0
    assert meeting.network.window is not None
    lag, lost = _late_and_lost(meeting.network.viewers[0], *meeting.network.window)
    assert lag > 1.0, f"the audio's median lag was {lag:.3f} s; the link's queue holds 1.7 s"
    assert lost > 0.05, f"the audio lost {lost:.1%}; about an eighth when the link is full"
    # An unconstrained viewer, for comparison: on time, nothing lost.
    lag, lost = _late_and_lost(meeting.network.viewers[1], *meeting.network.window)
    assert lag < 0.5, f"an unconstrained viewer's audio lagged {lag:.3f} s"
    assert lost < 0.02, f"an unconstrained viewer's audio lost {lost:.1%}"


async def test_a_publisher_whose_only_viewer_is_constrained_is_asked_for_less(meetings) -> None:
    meeting = await meetings(bandwidth_control=True, viewers=1)
    await meeting.run()
    publisher = meeting.network.publisher
    assert publisher is not None
    bandwidth = meeting.room.subscriber_bandwidth("viewer-0")
    assert bandwidth is not None
    assert bandwidth.pauses >= 1
    assert publisher.remb[0] >= 500_000, "before the link was limited"
    assert publisher.remb[-1] < 500_000, publisher.remb
