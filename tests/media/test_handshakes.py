"""A handshake that cannot succeed is refused up front, or reported and released.

Before: an offer without ``a=fingerprint`` was answered, then aiortc's
``assert len(remoteParameters.fingerprints)`` failed in a background task (a
traceback in the log, the connection ``connecting`` for ever); a fingerprint
that did not match failed the DTLS handshake and told nobody; a client that
vanished after the offer and answer left the server's connection and its UDP
sockets open.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media import MediaError

from .conftest import Meeting, Publisher

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

_FINGERPRINT = re.compile(r"a=fingerprint:(\S+) (\S+)\r\n")


def _without_fingerprints(sdp: str) -> str:
    return _FINGERPRINT.sub("", sdp)


def _only_sha1(sdp: str) -> str:
    return _FINGERPRINT.sub("", sdp).replace(
        "a=setup:", "a=fingerprint:sha-1 " + ":".join(["AB"] * 20) + "\r\na=setup:"
    )


def _malformed_sha256(sdp: str) -> str:
    return _FINGERPRINT.sub(r"a=fingerprint:\1 XYZ\r\n", sdp)


def _loop_errors() -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
    return errors


def _camera(meeting: Meeting, participant_id: str) -> Publisher:
    client = meeting.publisher(participant_id)
    client.add("camera", SyntheticVideoTrack(160, 120, 15))
    return client


@pytest.mark.parametrize("spoil", [_without_fingerprints, _only_sha1, _malformed_sha256])
async def test_an_offer_without_a_usable_fingerprint_is_refused_before_aiortc_sees_it(
    meeting: Meeting, spoil: Callable[[str], str]
) -> None:
    errors = _loop_errors()
    alice = _camera(meeting, "alice")
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", spoil(await alice.offer()), alice.sources())
    assert refused.value.code == "bad_offer"
    assert "a=fingerprint" in refused.value.message
    assert meeting.room._participants["alice"].publisher is None  # nothing was kept
    await asyncio.sleep(0.2)  # room for aiortc's background connect task, had one started
    assert errors == []


@pytest.mark.parametrize("spoil", [_without_fingerprints, _only_sha1, _malformed_sha256])
async def test_an_answer_without_a_usable_fingerprint_is_refused_before_aiortc_sees_it(
    meeting: Meeting, spoil: Callable[[str], str]
) -> None:
    errors = _loop_errors()
    meeting.admit("bob")
    offer = await meeting.room.subscribe("bob")
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        await client.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await client.setLocalDescription(await client.createAnswer())
        with pytest.raises(MediaError) as refused:
            await meeting.room.subscriber_answer("bob", spoil(client.localDescription.sdp))
    finally:
        await client.close()
    assert refused.value.code == "bad_answer"
    assert "a=fingerprint" in refused.value.message
    await asyncio.sleep(0.2)
    assert errors == []
