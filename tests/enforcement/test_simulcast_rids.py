"""Simulcast layers are bound from packets, but only to what the offer declared.

A modified client offers its camera as two rid layers (``a=rid:q send``,
``a=rid:f send``, ``a=simulcast:send q;f``) and its microphone as it is; the
server accepts the layers in its answer. The client then forges packets on
SSRCs no SDP names, each carrying header extensions that claim a mid and a
rid (RFC 8852): a rid the offer did not declare, the microphone's mid (which
has no layers), a mid the offer never had, no extension at all, and a second
SSRC for a layer that already has one. None of them reaches the honest
viewer, while the microphone flows (the control). Then a declared layer on a
fresh SSRC does arrive, marker and all, and the layer's SSRC cannot be taken
over by a packet that names another mid.
"""

from __future__ import annotations

import asyncio
import random
import struct
from typing import Any

import pytest
from support import forging
from support.adversary import Adversary, camera, decisions, microphone
from support.counting import MARKER, settle, until
from support.enforced import Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {"entry": {"waiting_room": {"enabled": False}}, "audio": {"mute_on_entry": False}}
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
RID_ID = 10
_NEXT_SEQUENCE: dict[int, int] = {}


def _simulcast_camera(offer: str) -> str:
    """The offer with its video m-line sent as two rid layers (RFC 8853 5.1)."""
    sections = offer.split("\r\nm=")
    for index, section in enumerate(sections):
        if section.startswith("video"):
            lines = section.split("\r\n")
            at = next(n for n, line in enumerate(lines) if line.startswith("a=extmap:"))
            lines[at:at] = [
                f"a=extmap:{RID_ID} {RID_URI}",
                "a=rid:q send",
                "a=rid:f send",
                "a=simulcast:send q;f",
            ]
            sections[index] = "\r\n".join(lines)
    return "\r\nm=".join(sections)


def _extension(mid_id: int, mid: str | None, rid: str | None) -> bytes:
    """An RFC 8285 one-byte header-extension block with a mid and a rid."""
    elements = b""
    for ident, value in ((mid_id, mid), (RID_ID, rid)):
        if value is not None:
            data = value.encode()
            elements += bytes([(ident << 4) | (len(data) - 1)]) + data
    elements += b"\x00" * (-len(elements) % 4)
    return struct.pack("!HH", 0xBEDE, len(elements) // 4) + elements


async def _forge(eve: Adversary, ssrc: int, payload_type: int, extension: bytes, count: int) -> int:
    """``count`` forged one-packet VP8 keyframes on ``ssrc``, 20 ms apart, each with MARKER."""
    sequence = _NEXT_SEQUENCE.get(ssrc, random.getrandbits(15))  # SRTP refuses a replay
    timestamp, written = random.getrandbits(31), 0
    for n in range(count):
        sequence = (sequence + 1) & 0xFFFF
        packet = forging.packet(ssrc, payload_type, sequence, timestamp, extension, "video", n)
        written += any([await forging.write(dtls, packet) for dtls in eve._transports])
        timestamp += 3000
        await asyncio.sleep(0.02)  # the pace of a real stream, not a wait on an event
    _NEXT_SEQUENCE[ssrc] = sequence
    return written


def _mid_extension_id(eve: Adversary) -> int:
    ids = [
        e.id for t in eve.sending.values() for e in t._headerExtensions if e.uri == forging.MID_URI
    ]
    assert ids, "aiortc negotiated the mid extension"
    return int(ids[0])


async def test_only_declared_layers_bind_and_a_bound_ssrc_keeps_its_layer(scene: Scene) -> None:
    meeting = await scene.meeting(POLICY)
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    carol.wire.payloads = {}
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    reply: dict[str, Any] = await eve.publish(
        {"camera": camera(), "microphone": microphone()}, munge=_simulcast_camera
    )
    assert sorted(decisions(reply)) == [
        ("camera", True, "published"),
        ("microphone", True, "published"),
    ]
    assert "a=simulcast:recv q;f" in reply["sdp"], "the answer accepts the layers"
    assert "a=rid:f recv" in reply["sdp"]
    await carol.wire.flows(eve.participant_id, "microphone")
    mid_id = _mid_extension_id(eve)
    camera_mid, microphone_mid = eve.mid_of("camera"), eve.mid_of("microphone")
    video = eve.payload_type_of("camera")
    fresh = random.sample(range(1, 2**32), 6)
    # aiortc's own camera packets name no rid: they bind to nothing and are never forwarded.
    forging_undeclared = asyncio.gather(
        _forge(eve, fresh[0], video, _extension(mid_id, camera_mid, "x"), 100),
        _forge(eve, fresh[1], video, _extension(mid_id, microphone_mid, "q"), 100),
        _forge(eve, fresh[2], video, _extension(mid_id, "77", "q"), 100),
        _forge(eve, fresh[3], video, b"", 100),
    )
    measured = await window(carol, eve, seconds=2.5)
    assert await forging_undeclared == [100, 100, 100, 100]
    await settle()
    assert measured.received[(eve.participant_id, "microphone")] > 0, "the control flowed"
    assert measured.received[(eve.participant_id, "camera")] == 0
    assert carol.wire.marked == 0
    assert {key for key in carol.wire.packets if key[0] == "?"} == set()

    # A declared layer on a fresh SSRC binds and is forwarded: the marker arrives.
    await _forge(eve, fresh[4], video, _extension(mid_id, camera_mid, "q"), 20)
    await until(lambda: carol.wire.marked > 0, what="a declared layer's packets")
    # A second SSRC for the bound layer, and the bound SSRC naming the microphone's mid:
    # neither is bound anew; the bound SSRC's packets stay the camera's layer q.
    marked = carol.wire.marked
    second = await window_while(
        carol, eve, _forge(eve, fresh[5], video, _extension(mid_id, camera_mid, "q"), 60)
    )
    assert second.received[(eve.participant_id, "camera")] == 0
    assert carol.wire.marked == marked
    await _forge(eve, fresh[4], video, _extension(mid_id, microphone_mid, "q"), 20)
    await until(lambda: carol.wire.marked >= marked + 20, what="the bound layer's packets")
    assert carol.wire.payloads is not None
    keys_with_marker = {
        key for key, payloads in carol.wire.payloads.items() if any(MARKER in p for p in payloads)
    }
    assert keys_with_marker == {(eve.participant_id, "camera")}


async def window_while(carol: Any, eve: Adversary, sending: Any) -> Any:
    """What reaches ``carol`` while ``sending`` runs (and packets in flight land)."""
    task = asyncio.ensure_future(sending)
    measured = await window(carol, eve, seconds=1.5)
    await task
    await settle()
    return measured
