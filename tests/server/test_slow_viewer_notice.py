"""A viewer whose link is too slow for a video is told so, in its language, by the real server.

Eve publishes a camera at a fixed 500 kbit/s; Sam subscribes through the impairment
relay (tests/support/impair.py), which carries 300 kbit/s towards him. The server
pauses the camera for Sam alone and sends him a ``video_paused`` notice naming Eve,
whose sentence says why; Eve hears nothing of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiortc.codecs.vpx
import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from support.adversary import Adversary
from support.impair import CLEAR, ImpairedLink, Impairment
from support.meetings import Hosted, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk.media import loopback_only, settled
from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
OPEN = {"entry": {"waiting_room": {"enabled": False}}}


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    loopback_only()
    vpx: Any = aiortc.codecs.vpx
    saved = vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE
    pin_vp8_bitrate(500_000)
    yield
    vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE = saved


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Hosted]:
    hosted = await hosted_meeting(server.url, OPEN)
    yield hosted
    await hosted.close()


def _notice(topic: str) -> Any:
    return lambda message: message["type"] == "notice" and message["topic"] == topic


async def test_a_viewer_behind_a_slow_link_is_told_why_its_video_stopped(
    server: RunningServer, meeting: Hosted
) -> None:
    eve = Adversary(server.url, meeting.meeting_id, name="Eve Mallory")
    sam = Adversary(server.url, meeting.meeting_id, name="Sam Slow")
    link = await ImpairedLink(seed=3).start()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        admitted = await eve.join()
        assert admitted["type"] == "admitted"
        assert (await sam.join())["type"] == "admitted"
        reply = await eve.publish({"camera": SyntheticVideoTrack(320, 240, fps=30)})
        assert reply["type"] == "publish_answer"
        offer = await sam.request({"type": "subscribe"})
        assert offer["type"] == "subscribe_offer"
        await pc.setRemoteDescription(
            RTCSessionDescription(link.through_client(offer["sdp"]), "offer")
        )
        await pc.setLocalDescription(await pc.createAnswer())
        answer = link.through_server(pc.localDescription.sdp)
        await sam.send({"type": "subscribe_answer", "sdp": answer})
        link.set(CLEAR, Impairment(rate=300_000))
        told = await sam.wait_for(_notice("video_paused"), timeout=60)
    finally:
        await settled(pc)
        await pc.close()
        link.close()
        await eve.close()
        await sam.close()
    assert told["about"] == admitted["you"]["participant_id"]
    assert told["params"]["source"] == "camera"
    assert "Eve Mallory" in told["text"]
    assert "too slow" in told["text"]
    assert [m for m in eve.seen("notice") if m["topic"] == "video_paused"] == []
