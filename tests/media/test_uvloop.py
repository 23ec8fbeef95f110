"""The plane runs unchanged on uvloop (the loop the server uses where it helps)."""

from __future__ import annotations

import pytest

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import Source

from .conftest import Meeting, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, bool]]:
    return ("asyncio", {"use_uvloop": True})


async def test_forwarding_and_gates_work_on_uvloop(meeting: Meeting, decode_errors) -> None:
    import uvloop

    assert isinstance(__import__("asyncio").get_running_loop(), uvloop.Loop)
    plane = meeting.plane
    plane.set_gate("alice", Source.CAMERA, True)
    alice = meeting.publisher("alice")
    alice.add(Source.CAMERA, SyntheticVideoTrack(320, 240, 30))
    alice.add(Source.MICROPHONE, SyntheticAudioTrack())
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", Source.CAMERA)
    await until(lambda: video.frames >= 15, what="video on uvloop")
    assert await bob.packets("alice", Source.MICROPHONE) == 0  # muted on entry
    plane.set_gate("alice", Source.CAMERA, False)
    plane.set_gate("alice", Source.CAMERA, True)
    frames = video.frames
    await until(lambda: video.frames >= frames + 15, within=3, what="video after the cycle")
    assert decode_errors.count == 0
