"""The plane runs unchanged on uvloop (the loop the server uses where it helps)."""

from __future__ import annotations

import pytest

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

from .conftest import Meeting, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, bool]]:
    return ("asyncio", {"use_uvloop": True})


async def test_forwarding_and_gates_work_on_uvloop(meeting: Meeting, decode_errors) -> None:
    import uvloop

    assert isinstance(__import__("asyncio").get_running_loop(), uvloop.Loop)
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    alice.add("microphone", SyntheticAudioTrack())
    await alice.publish()
    bob = await meeting.subscriber("bob")
    video = bob.got("alice", "camera")
    await until(lambda: video.frames >= 15, what="video on uvloop")
    assert await bob.packets("alice", "microphone") == 0  # muted on entry
    room.set_gate("alice", "camera", False)
    room.set_gate("alice", "camera", True)
    frames = video.frames
    await until(lambda: video.frames >= frames + 15, within=3, what="video after the cycle")
    assert decode_errors.count == 0
