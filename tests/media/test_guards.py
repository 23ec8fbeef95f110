"""Guards for what aiortc and aioice do not survive alone (security-bar section 0, V1-V5).

Each test fails without its guard; test_aiortc_seam.py shows the unguarded stack failing.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import re
import socket
import struct
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import MediaError
from meetwarden.server.media.aiortc_seam import guard_counters

from .conftest import Meeting, Publisher, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def _server_port(client_pc: RTCPeerConnection) -> int:
    """The server's ICE port, from the candidates in the description it sent this client."""
    match = re.search(
        r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host", client_pc.remoteDescription.sdp
    )
    assert match is not None
    return int(match.group(1))


async def _flowing_meeting(meeting: Meeting) -> tuple[Publisher, Any]:
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 10, what="video")
    return alice, bob


def _send(port: int, payload: bytes, count: int = 1) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as off_path:
        for _ in range(count):
            off_path.sendto(payload, ("127.0.0.1", port))


async def test_empty_datagram_from_anywhere_does_not_close_a_connection(meeting: Meeting) -> None:
    alice, bob = await _flowing_meeting(meeting)
    before = guard_counters.empty_datagrams
    video = bob.got("alice", "camera")
    frames = video.frames
    _send(_server_port(alice.pc), b"")  # V1: at the server side of alice's publishing connection
    _send(_server_port(bob.pc), b"")  # and of bob's subscribing connection
    # Unguarded, the server's DTLS transports close here and the video stops.
    await until(lambda: video.frames >= frames + 30, within=3, what="video after the datagrams")
    assert alice.pc.connectionState == "connected"
    assert bob.pc.connectionState == "connected"
    assert guard_counters.empty_datagrams >= before + 2


def _malformed_stun() -> bytes:
    """A Binding request whose PRIORITY attribute has length 0: struct.error in aioice."""
    attribute = struct.pack("!HH", 0x0024, 0)
    return struct.pack("!HHI12s", 0x0001, len(attribute), 0x2112A442, b"A" * 12) + attribute


async def test_malformed_stun_is_dropped_without_a_traceback_per_packet(
    meeting: Meeting, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = await _flowing_meeting(meeting)
    loop_errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: loop_errors.append(context))
    before = guard_counters.malformed_stun
    _send(_server_port(alice.pc), _malformed_stun(), count=50)
    await until(
        lambda: guard_counters.malformed_stun + len(loop_errors) >= before + 50,
        what="the 50 datagrams handled",
    )
    assert loop_errors == []  # unguarded: one "Exception in callback" per datagram
    video = bob.got("alice", "camera")
    frames = video.frames
    await until(lambda: video.frames >= frames + 15, within=3, what="video goes on")
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == []
    assert alice.pc.connectionState == "connected"


def _open_fds() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


async def _base_offer() -> str:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTransceiver(SyntheticAudioTrack(), direction="sendonly")
    client.addTransceiver(SyntheticVideoTrack(320, 240), direction="sendonly")
    await client.setLocalDescription(await client.createOffer())
    offer = client.localDescription.sdp
    await client.close()
    return offer


_TOKENS = ["-1", "99999999999", "abc", "", "0", "65536", "4294967296", " ", "::", "\xff", "a" * 300]
_LINES = [
    "a=candidate:1 1 udp x 1.2.3.4 1 typ host",
    "a=ssrc:x cname:y",
    "a=extmap:999 urn:x",
    "a=fingerprint:md5 00",
    "a=setup:bogus",
    "m=video 9 UDP/TLS/RTP/SAVPF 300",
    "a=rtpmap:97 VP8/0",
    "a=fmtp:98 apt=abc",
    "a=msid:",
    "a=group:BUNDLE 7 8",
    "a=mid:" + "x" * 300,
]


def _mutate(offer: str, rng: random.Random) -> str:
    """notes/probes/sdp_fuzz.py's mutations: delete, garble or insert lines."""
    lines = offer.split("\r\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.3:
            del lines[i]
        elif op < 0.6:
            parts = lines[i].split(" ")
            parts[rng.randrange(len(parts))] = rng.choice(_TOKENS)
            lines[i] = " ".join(parts)
        elif op < 0.8 and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ":" + rng.choice(_TOKENS)
        else:
            lines.insert(i, rng.choice(_LINES))
    return "\r\n".join(lines)


async def test_malformed_offers_get_one_clear_error_and_release_everything(
    meeting: Meeting,
) -> None:
    offer = await _base_offer()
    sources = {"0": "microphone", "1": "camera"}
    loop_errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: loop_errors.append(context))
    fds = _open_fds()
    rng = random.Random(1)
    refused = accepted = 0
    messages: set[str] = set()
    messages: set[str] = set()
    for n in range(120):
        participant = f"fuzz-{n}"
        meeting.admit(participant)
        try:
            await meeting.room.publish(participant, _mutate(offer, rng), sources)
            accepted += 1
        except MediaError as error:
            refused += 1
            messages.add(error.message)  # one readable sentence, never a traceback
        meeting.room.close_participant(participant)
    await meeting.room.settled()  # the connections are released in the background
    # asyncio closes a transport's socket in a callback that close() schedules: one turn
    # of the loop runs those callbacks before the descriptors are counted.
    await asyncio.sleep(0)
    assert refused > 40
    assert refused + accepted == 120
    assert all(m.endswith(".") and "Traceback" not in m for m in messages)
    assert _open_fds() <= fds
    assert loop_errors == []


@pytest.mark.parametrize("port", ["65536", "4294967296", "-1", "0"])
async def test_candidate_port_out_of_range_is_refused_before_aiortc_sends_to_it(
    meeting: Meeting, port: str
) -> None:
    """asyncio's sendto raises OverflowError for such a port: a loop error, a closed socket."""
    loop_errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: loop_errors.append(context))
    candidate = f"a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n"
    offer = (await _base_offer()).replace("a=mid:0\r\n", "a=mid:0\r\n" + candidate)
    meeting.admit("alice")
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, {"0": "microphone", "1": "camera"})
    assert (refused.value.code, refused.value.message) == (
        "bad_offer",
        "ICE candidate ports are 1 to 65535.",
    )
    bob = await meeting.subscriber("bob")
    answer = bob.pc.localDescription.sdp.replace("a=mid:0\r\n", "a=mid:0\r\n" + candidate)
    await meeting.room.subscribe("bob")  # a fresh offer to answer, badly
    with pytest.raises(MediaError) as refused_answer:
        await meeting.room.subscriber_answer("bob", answer)
    assert refused_answer.value.message == "ICE candidate ports are 1 to 65535."
    assert loop_errors == []


async def test_sockets_are_released_even_when_aiortc_close_raises(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    fds = _open_fds()
    alice, bob = await _flowing_meeting(meeting)
    assert _open_fds() > fds

    async def broken_close(self: RTCPeerConnection) -> None:
        raise AttributeError("'NoneType' object has no attribute 'stop'")  # as leak.py saw

    monkeypatch.setattr(RTCPeerConnection, "close", broken_close)
    meeting.room.close_participant("alice")
    meeting.room.close_participant("bob")
    await meeting.room.settled()  # the background releases ran into the broken close()
    monkeypatch.undo()
    await alice.close()
    await bob.close()
    meeting.clients.clear()
    await until(lambda: _open_fds() <= fds, within=5, what="every socket closed")


async def test_reoffer_with_new_ice_credentials_is_refused_with_reconnect(
    meeting: Meeting,
) -> None:
    alice, bob = await _flowing_meeting(meeting)
    restart = await alice.offer()  # what a browser sends after restartIce()
    restart = re.sub(r"a=ice-ufrag:\S+", "a=ice-ufrag:NEWU", restart)
    restart = re.sub(r"a=ice-pwd:\S+", "a=ice-pwd:NEWPASSWORDNEWPASSWORD12", restart)
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", restart, alice.sources())
    assert refused.value.code == "ice_restart_unsupported"
    assert "reconnect" in refused.value.message
    video = bob.got("alice", "camera")
    frames = video.frames
    await until(lambda: video.frames >= frames + 15, within=3, what="the old connection goes on")
