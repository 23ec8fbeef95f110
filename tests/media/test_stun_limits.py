"""A media port is no amplifier: unauthenticated STUN gets few answers, ICE still works (V3).

aioice answered every bare Binding request (20 bytes) with a 48-byte error, from
anyone and without limit (security-bar V3, notes/probes/amp.py).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any

import aioice.ice
import pytest

from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam.stun_limits import (
    PER_SOURCE_BURST,
    PER_SOURCE_RATE,
    TokenBuckets,
    stun_answers,
)

from .conftest import Meeting, until
from .test_guards import _server_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def _bare_binding_request() -> bytes:
    return struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, os.urandom(12))


def _answers(off_path: socket.socket) -> list[bytes]:
    answers = []
    while True:
        try:
            answers.append(off_path.recv(2048))
        except BlockingIOError:
            return answers


def _count_requests(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many STUN requests aioice's connections took (answered or not)."""
    taken = [0]
    original = aioice.ice.Connection.request_received

    def request_received(self: aioice.ice.Connection, *args: Any) -> None:
        taken[0] += 1
        original(self, *args)

    monkeypatch.setattr(aioice.ice.Connection, "request_received", request_received)
    return taken


async def test_a_thousand_bare_binding_requests_get_a_bounded_number_of_answers(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting.admit("alice")
    meeting.room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 10, what="video")
    port = _server_port(alice.pc)
    taken = _count_requests(monkeypatch)
    refused = stun_answers.refused
    started = time.monotonic()
    received: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as off_path:
        off_path.bind(("127.0.0.1", 0))
        off_path.setblocking(False)
        for batch in range(10):  # in batches, so that no request is lost in a full socket buffer
            for _ in range(100):
                off_path.sendto(_bare_binding_request(), ("127.0.0.1", port))
            await until(
                lambda batch=batch: taken[0] >= 100 * (batch + 1), what="the server took them"
            )
            received += _answers(off_path)
        elapsed = time.monotonic() - started
    # Each answer went out (synchronously) before its request counted as taken.
    assert all(len(answer) == 48 for answer in received)
    assert len(received) <= PER_SOURCE_BURST + PER_SOURCE_RATE * elapsed + 1, (
        f"{len(received)} answers in {elapsed:.1f} s"
    )
    assert stun_answers.refused - refused == 1000 - len(received)
    # The meeting's own ICE is answered as before: a newcomer connects, media goes on.
    carol = await meeting.subscriber("carol")
    await carol.connected()
    late = carol.got("alice", "camera")
    frames = video.frames
    await until(lambda: late.frames >= 10 and video.frames >= frames + 10, what="media goes on")
    assert alice.pc.connectionState == "connected"


def test_each_source_has_its_own_bucket_and_the_buckets_are_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=2, max_keys=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [True, True, False]
    assert buckets.take("b")
    now[0] = 1.0
    assert buckets.take("a")
    assert not buckets.take("a")
    for key in range(100):
        buckets.take(key)
    assert len(buckets._buckets) == 3
