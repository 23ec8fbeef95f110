"""A media connection that fails reaches its participant as an error with a reason.

Through the real server: a client whose DTLS fingerprint does not match its
certificate gets a ``publish_answer`` (nothing about the offer is wrong), then,
once the handshake fails, an ``error`` with code ``media_failed`` that says
what failed and what to do; an offer without any fingerprint is refused at
once, and the server's log holds no traceback for either.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from support.adversary import Adversary
from support.meetings import Hosted, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk.media import loopback_only
from meetwarden.client_sdk.synthetic import SyntheticVideoTrack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
OPEN = {"entry": {"waiting_room": {"enabled": False}}}
_FINGERPRINT = re.compile(r"a=fingerprint:(\S+) (\S\S)(\S+)\r\n")


def _wrong_fingerprints(sdp: str) -> str:
    """Well-formed digests of a certificate nobody has."""
    return _FINGERPRINT.sub(
        lambda m: f"a=fingerprint:{m[1]} {'00' if m[2] != '00' else '11'}{m[3]}\r\n", sdp
    )


@pytest.fixture(autouse=True)
def _loopback() -> None:
    loopback_only()


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Hosted]:
    hosted = await hosted_meeting(server.url, OPEN)
    yield hosted
    await hosted.close()


@pytest.fixture
async def eve(server: RunningServer, meeting: Hosted) -> AsyncIterator[Adversary]:
    client = Adversary(server.url, meeting.meeting_id, name="Eve Mallory")
    assert (await client.join())["type"] == "admitted"
    yield client
    await client.close()


def _media_failed(message: dict[str, object]) -> bool:
    return message["type"] == "error" and message["code"] == "media_failed"


async def test_a_publisher_whose_handshake_fails_is_told_why(
    server: RunningServer, eve: Adversary
) -> None:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        camera = client.addTransceiver(SyntheticVideoTrack(160, 120, 15), direction="sendonly")
        await client.setLocalDescription(await client.createOffer())
        offer = _wrong_fingerprints(client.localDescription.sdp)
        tracks = [{"mid": camera.mid, "source": "camera", "surface": "window"}]
        reply = await eve.request({"type": "publish", "sdp": offer, "tracks": tracks})
        assert reply["type"] == "publish_answer"
        await client.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        error = await eve.wait_for(_media_failed, timeout=30)
    finally:
        await client.close()
    assert error["ref"] is None
    assert "sending" in error["message"]
    assert "DTLS" in error["message"]
    assert "publish again" in error["message"]
    assert "Traceback" not in "".join(server.log)


async def test_a_subscriber_whose_handshake_fails_is_told_why(eve: Adversary) -> None:
    offer = await eve.request({"type": "subscribe"})
    assert offer["type"] == "subscribe_offer"
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        await client.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await client.setLocalDescription(await client.createAnswer())
        answer = _wrong_fingerprints(client.localDescription.sdp)
        await eve.send({"type": "subscribe_answer", "sdp": answer})
        error = await eve.wait_for(_media_failed, timeout=30)
    finally:
        await client.close()
    assert "receiving" in error["message"]
    assert "subscribe again" in error["message"]


async def test_an_offer_without_a_fingerprint_is_refused_without_a_traceback(
    server: RunningServer, eve: Adversary
) -> None:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        camera = client.addTransceiver(SyntheticVideoTrack(160, 120, 15), direction="sendonly")
        await client.setLocalDescription(await client.createOffer())
        offer = _FINGERPRINT.sub("", client.localDescription.sdp)
        tracks = [{"mid": camera.mid, "source": "camera", "surface": "window"}]
        reply = await eve.request({"type": "publish", "sdp": offer, "tracks": tracks})
    finally:
        await client.close()
    assert reply["type"] == "error"
    assert reply["code"] == "bad_offer"
    assert "a=fingerprint" in reply["message"]
    assert "Traceback" not in "".join(server.log)
