"""What the publisher's link loses, the server asks for again, and every viewer gets.

The publisher's link goes through the impairment relay (tests/support/impair.py),
which drops chosen camera packets on their way to the server (their first
transmission: a retransmission travels on the RTX stream). Counted at the
wire: the NACKs the publisher hears from the server, and the payloads that
reach each viewer. Each repair is shown beside the server before loss repair
(``MediaPlane(loss_repair=False)``), where the same packets never arrive.
No timing is asserted: a window is only how long the test lets things happen.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support.impair import Impairment, rtp_header
from support.network_meeting import NetworkMeeting, Publisher, RoomEndpoint, Scenario

from meetwarden.server.media import CameraCheck, MediaPlane
from meetwarden.server.media.rtp_packets import vp8_frame_start

from .conftest import until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

# No camera check: its probes ask for keyframes too, and these tests count keyframe requests.
QUIET = CameraCheck(report_interval=3600.0, probe_interval=3600.0)


class Meeting:
    """A NetworkMeeting on a plane of its own, repairing or not."""

    def __init__(self, loss_repair: bool, viewers: int = 2) -> None:
        self.plane = MediaPlane(camera_check=QUIET, loss_repair=loss_repair)
        self.room = self.plane.room("meeting", on_observation=lambda observation: None)
        self.network = NetworkMeeting(
            RoomEndpoint(self.room), Scenario("publisher's link"), viewers=viewers
        )

    async def start(self) -> Meeting:
        await self.network.start()
        assert self.network.publisher is not None
        self.network.publisher.record = True
        for viewer in self.network.viewers:
            viewer.record = True
        # Recorded packets reach every viewer: the stream flows, so what a test drops from
        # now on is a gap in it (on a loaded machine the first packets may come later).
        publisher = self.network.publisher
        await until(
            lambda: all(
                len(viewer.payloads.intersection(publisher.sent.values())) >= 10
                for viewer in self.network.viewers
            ),
            what="recorded camera packets at every viewer",
        )
        # The viewers' joins asked for keyframes; one may still wait for its interval.
        await until(lambda: not self.stats().keyframe_request_pending, what="joins settled")
        return self

    @property
    def publisher(self) -> Publisher:
        assert self.network.publisher is not None
        return self.network.publisher

    def stats(self) -> Any:
        return self.room.track_stats("publisher", "camera")

    async def close(self) -> None:
        await self.network.close()
        await self.room.close()
        await self.plane.close()


@pytest.fixture
async def meetings() -> AsyncIterator[Callable[..., Any]]:
    opened: list[Meeting] = []

    async def meeting(loss_repair: bool, viewers: int = 2) -> Meeting:
        made = Meeting(loss_repair, viewers)
        opened.append(made)
        return await made.start()

    yield meeting
    for made in opened:
        await asyncio.wait_for(made.close(), 20)


def _drop_camera_packets(meeting: Meeting, count: int, every: int = 7) -> list[int]:
    """Drops ``count`` of the camera's packets on their way to the server, one in
    ``every``; returns the list their sequence numbers are added to."""
    publisher = meeting.publisher
    dropped: list[int] = []

    def drop(data: bytes) -> bool:
        header = rtp_header(data)
        if header is None or header[0] != publisher.ssrc or len(dropped) >= count:
            return False
        if header[1] % every:
            return False
        dropped.append(header[1])
        return True

    meeting.network.link.up.drop_if = drop
    return dropped


def _arrived(meeting: Meeting, sequence_numbers: list[int]) -> list[set[int]]:
    """Per viewer: which of these packets of the publisher's reached it."""
    sent = meeting.publisher.sent
    return [
        {s for s in sequence_numbers if sent.get(s) in viewer.payloads}
        for viewer in meeting.network.viewers
    ]


def _before_keyframe(meeting: Meeting, sequence_numbers: list[int]) -> set[int]:
    """Those of these packets right before a keyframe's first: the stream goes on at the
    keyframe, and the frame they end is skipped, not waited for."""
    sent = meeting.publisher.sent
    following = [sent.get((s + 1) & 0xFFFF, b"") for s in sequence_numbers]
    return {
        s
        for s, body in zip(sequence_numbers, following, strict=True)
        if (start := vp8_frame_start(body)) is not None and start.keyframe
    }


async def test_lost_publisher_packets_are_asked_for_and_reach_every_viewer(meetings) -> None:
    meeting = await meetings(loss_repair=True)
    publisher = meeting.publisher
    keyframe_requests = len(publisher.keyframe_requests)
    dropped = _drop_camera_packets(meeting, 20)
    await until(lambda: len(dropped) == 20, what="20 packets lost on the publisher's link")
    await until(lambda: publisher.sent.get((dropped[-1] + 1) & 0xFFFF) is not None, what="more")
    skipped = _before_keyframe(meeting, dropped)
    repaired = set(dropped) - skipped
    await until(
        lambda: all(got == repaired for got in _arrived(meeting, dropped)),
        what=lambda: (
            f"every lost packet at every viewer: {sorted(repaired)} lost, "
            f"{[sorted(repaired - got) for got in _arrived(meeting, dropped)]} still missing, "
            f"asked for {sorted(publisher.nacked)}; {meeting.stats()}"
        ),
    )
    assert repaired <= set(publisher.nacked), "the server asked for each of them"
    assert set(publisher.nacked) <= set(publisher.sent), "and for nothing it was not sent"
    stats = meeting.stats()
    assert stats.packets_repaired == len(repaired)
    assert stats.retransmissions_received >= len(repaired), "retransmitted on the RTX stream"
    assert stats.gaps_given_up == len(skipped)
    # Repaired or skipped, never given up: no keyframe was asked for, nothing failed to decode.
    assert len(publisher.keyframe_requests) == keyframe_requests
    viewers = meeting.network.viewers
    frames = [len(viewer.log.times) for viewer in viewers]
    await until(
        lambda: all(len(v.log.times) >= f + 30 for v, f in zip(viewers, frames, strict=True)),
        what="video goes on",
    )
    assert [len(viewer.log.errors) for viewer in viewers] == [0] * len(viewers)
    assert meeting.network.decode_errors.unattributed == 0


async def test_without_repair_the_same_lost_packets_never_reach_a_viewer(meetings) -> None:
    """The control: the server before loss repair, the same losses."""
    meeting = await meetings(loss_repair=False)
    dropped = _drop_camera_packets(meeting, 20)
    await until(lambda: len(dropped) == 20, what="20 packets lost on the publisher's link")
    # The viewers ask the server for them (their NACKs); nothing it could answer with.
    await asyncio.sleep(2.0)  # the window in which a repair would have arrived
    assert _arrived(meeting, dropped) == [set(), set()]
    assert meeting.publisher.nacked == [], "the server before asked the publisher nothing"
    stats = meeting.stats()
    assert stats.nacks_sent == stats.packets_repaired == 0
    assert stats.retransmissions_received == 0


async def test_when_repair_cannot_work_a_keyframe_is_asked_for_and_viewers_go_on_cleanly(
    meetings,
) -> None:
    meeting = await meetings(loss_repair=True)
    publisher = meeting.publisher
    link = meeting.network.link
    keyframe_requests = len(publisher.keyframe_requests)
    dropped: list[int] = []
    # A camera packet at a time is lost, and every retransmission too, until the server
    # gives a gap up with no keyframe behind it (one right after the loss is skipped to).
    while meeting.stats().repair_keyframe_requests == 0:
        assert len(dropped) < 5, "five gaps given up, none by asking for a keyframe"
        given_up = meeting.stats().gaps_given_up
        lose = _drop_camera_packets(meeting, 1)
        lose_packet = link.up.drop_if
        assert lose_packet is not None

        def no_retransmission(data: bytes, lose_packet: Any = lose_packet) -> bool:
            header = rtp_header(data)
            return (header is not None and header[0] == publisher.rtx_ssrc) or lose_packet(data)

        link.up.drop_if = no_retransmission
        await until(lambda lose=lose: len(lose) == 1, what="a packet lost")  # type: ignore[misc]
        await until(
            lambda given_up=given_up: meeting.stats().gaps_given_up > given_up,  # type: ignore[misc]
            what="repair given up",
        )
        dropped.extend(lose)
    link.up.drop_if = None
    await until(
        lambda: len(publisher.keyframe_requests) > keyframe_requests,
        what="a keyframe asked for once repair failed",
    )
    assert dropped[-1] in publisher.nacked, "repair was tried first"
    assert publisher.nacked.count(dropped[-1]) > 1, "and tried again"
    viewers = meeting.network.viewers
    frames = [len(viewer.log.times) for viewer in viewers]
    await until(
        lambda: all(len(v.log.times) >= f + 30 for v, f in zip(viewers, frames, strict=True)),
        what="every viewer decodes again",
    )
    assert _arrived(meeting, dropped) == [set(), set()]
    # Each viewer resumed on the keyframe with its numbering continued: its receiver
    # never waited for the packet, and its decoder never saw a frame without it.
    assert [len(viewer.log.errors) for viewer in viewers] == [0, 0]


@pytest.mark.parametrize("loss_repair", [True, False], ids=["repairing", "before"])
async def test_under_ten_percent_loss_both_ways_every_lost_packet_reaches_the_viewers(
    meetings, loss_repair: bool
) -> None:
    meeting = await meetings(loss_repair=loss_repair)
    link = meeting.network.link
    publisher = meeting.publisher
    chance = random.Random(14)
    lost: list[int] = []

    def ten_percent(data: bytes) -> bool:  # of everything: media, retransmissions, RTCP
        if chance.random() >= 0.1:
            return False
        header = rtp_header(data)
        if header is not None and header[0] == publisher.ssrc:
            lost.append(header[1])
        return True

    link.up.drop_if = ten_percent
    link.set(down=Impairment(loss=0.1))  # NACKs and keyframe requests to the publisher
    await until(lambda: len(lost) >= 30, within=30, what="30 camera packets lost")
    link.up.drop_if = None
    link.set(down=Impairment())
    await asyncio.sleep(2.0)  # the window in which repairs still arrive
    arrived = _arrived(meeting, lost)
    if not loss_repair:
        assert arrived == [set(), set()]
        return
    # Every lost packet reached every viewer, but for a gap given up on (one whose
    # retransmission was lost five times), which a keyframe mended instead.
    if meeting.stats().gaps_given_up == 0:
        assert arrived == [set(lost), set(lost)]
    assert [len(viewer.log.errors) for viewer in meeting.network.viewers] == [0, 0]


async def test_a_viewer_that_asks_for_every_packet_asks_the_publisher_for_nothing(
    meetings,
) -> None:
    """Only the server's own gaps go upstream: a viewer's NACKs are answered from the
    cache or not at all, never passed on as NACKs or keyframe requests."""
    meeting = await meetings(loss_repair=True)
    publisher = meeting.publisher
    keyframe_requests = len(publisher.keyframe_requests)
    viewer = meeting.network.viewers[0]
    receiver = next(t.receiver for t in viewer.pc.getTransceivers() if t.kind == "video")
    ssrc = next(
        int(stats.ssrc)
        for stats in (await receiver.getStats()).values()
        if stats.type == "inbound-rtp"
    )
    for first in range(0, 0x10000, 256):  # every sequence number there is, 256 at a time
        await receiver._send_rtcp_nack(ssrc, list(range(first, first + 256)))
    frames = len(viewer.log.times)
    await until(lambda: len(viewer.log.times) >= frames + 30, what="video goes on")
    assert publisher.nacked == []
    assert len(publisher.keyframe_requests) == keyframe_requests
    assert meeting.stats().nacks_sent == 0
