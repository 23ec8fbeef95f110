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
from meetwarden.server.media import ConnectionFailed, MediaError, MediaRoom
from meetwarden.server.media.aiortc_seam import open_sockets

from .conftest import Meeting, Publisher, until

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


def _wrong_fingerprints(sdp: str) -> str:
    """Well-formed digests of a certificate nobody has: the handshake must fail."""

    def other(match: re.Match[str]) -> str:
        value = match.group(2)
        flipped = ("00" if value[:2] != "00" else "11") + value[2:]
        return f"a=fingerprint:{match.group(1)} {flipped}\r\n"

    return _FINGERPRINT.sub(other, sdp)


def _failures(meeting: Meeting) -> list[ConnectionFailed]:
    return [o for o in meeting.observations if isinstance(o, ConnectionFailed)]


def _aiortc_tasks() -> list[asyncio.Task[Any]]:
    """Tasks running aiortc's or aioice's code (a connect, a DTLS handshake)."""

    def in_aiortc(task: asyncio.Task[Any]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        return code is not None and (
            "/aiortc/" in code.co_filename or "/aioice/" in code.co_filename
        )

    return [task for task in asyncio.all_tasks() if in_aiortc(task)]


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
    offer = spoil(await alice.offer())
    clients = _aiortc_tasks()  # the client's own connection, trying to connect
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, alice.sources())
    assert refused.value.code == "bad_offer"
    assert "a=fingerprint" in refused.value.message
    assert meeting.room._participants["alice"].publisher is None  # nothing was kept
    assert _aiortc_tasks() == clients  # the server started nothing that could fail later
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
        before = _aiortc_tasks()
        with pytest.raises(MediaError) as refused:
            await meeting.room.subscriber_answer("bob", spoil(client.localDescription.sdp))
        assert _aiortc_tasks() == before  # the server started no connect that could fail later
    finally:
        await client.close()
    assert refused.value.code == "bad_answer"
    assert "a=fingerprint" in refused.value.message
    assert errors == []


async def test_a_publisher_whose_fingerprint_does_not_match_is_told_and_released(
    meeting: Meeting,
) -> None:
    alice = _camera(meeting, "alice")
    offer = _wrong_fingerprints(await alice.offer())
    answer = await meeting.room.publish("alice", offer, alice.sources())
    server_side = meeting.room._participants["alice"].publisher
    assert server_side is not None
    await alice.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await until(lambda: _failures(meeting) != [], what="the failure reported")
    assert _failures(meeting) == [ConnectionFailed("alice", "publish", "dtls_failed")]
    assert meeting.room._participants["alice"].publisher is None
    await until(lambda: open_sockets(server_side.pc) == 0, what="its sockets closed")


async def test_a_subscriber_whose_fingerprint_does_not_match_is_told_and_released(
    meeting: Meeting,
) -> None:
    meeting.admit("bob")
    offer = await meeting.room.subscribe("bob")
    server_side = meeting.room._participants["bob"].subscriber
    assert server_side is not None
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        await client.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await client.setLocalDescription(await client.createAnswer())
        answer = _wrong_fingerprints(client.localDescription.sdp)
        await meeting.room.subscriber_answer("bob", answer)
        await until(lambda: _failures(meeting) != [], what="the failure reported")
    finally:
        await client.close()
    assert _failures(meeting) == [ConnectionFailed("bob", "subscribe", "dtls_failed")]
    assert meeting.room._participants["bob"].subscriber is None
    await until(lambda: open_sockets(server_side.pc) == 0, what="its sockets closed")


CONNECT_TIMEOUT = 2.0


@pytest.fixture
async def impatient() -> Any:
    """A meeting whose connections must connect within CONNECT_TIMEOUT seconds."""
    meeting = Meeting(connect_timeout=CONNECT_TIMEOUT)
    yield meeting
    await asyncio.wait_for(meeting.close(), 20)


async def _released(room: MediaRoom, pc: RTCPeerConnection) -> None:
    await until(lambda: open_sockets(pc) == 0, within=CONNECT_TIMEOUT + 15, what="sockets closed")
    await room.settled()


async def test_a_publisher_that_vanishes_after_the_answer_is_released_at_its_timeout(
    impatient: Meeting,
) -> None:
    alice = _camera(impatient, "alice")
    await impatient.room.publish("alice", await alice.offer(), alice.sources())
    server_side = impatient.room._participants["alice"].publisher
    assert server_side is not None
    assert open_sockets(server_side.pc) > 0
    await alice.pc.close()  # gone: no ICE, no DTLS, no goodbye
    await _released(impatient.room, server_side.pc)
    assert _failures(impatient) == [ConnectionFailed("alice", "publish", "timed_out")]
    assert impatient.room._participants["alice"].publisher is None


@pytest.mark.parametrize("answers", [True, False], ids=["after_answering", "without_answering"])
async def test_a_subscriber_that_vanishes_mid_handshake_is_released_at_its_timeout(
    impatient: Meeting, answers: bool
) -> None:
    impatient.admit("bob")
    offer = await impatient.room.subscribe("bob")
    server_side = impatient.room._participants["bob"].subscriber
    assert server_side is not None
    assert open_sockets(server_side.pc) > 0
    if answers:
        client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        await client.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await client.setLocalDescription(await client.createAnswer())
        await impatient.room.subscriber_answer("bob", client.localDescription.sdp)
        await client.close()  # gone
    await _released(impatient.room, server_side.pc)
    assert _failures(impatient) == [ConnectionFailed("bob", "subscribe", "timed_out")]
    assert impatient.room._participants["bob"].subscriber is None


async def test_a_connection_that_connects_in_time_is_not_reported(impatient: Meeting) -> None:
    alice = _camera(impatient, "alice")
    impatient.room.set_gate("alice", "camera", True)
    await alice.publish()
    bob = await impatient.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 10, what="video")
    await asyncio.sleep(CONNECT_TIMEOUT + 0.5)  # past the timeout: the watch is over
    frames = video.frames
    await until(lambda: video.frames >= frames + 10, what="video goes on")
    assert _failures(impatient) == []
