"""Media through the real server: forwarded as the policy allows, never otherwise.

Bots publish synthetic VP8 video and Opus audio over real WebRTC (aiortc,
loopback); a subscriber counts what reaches it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support.meetings import Hosted, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    BackToWaitingRoom,
    GrantReceived,
    MeetingClient,
    NoticeReceived,
    ProtocolError,
    Removed,
    SelfChanged,
)
from meetwarden.client_sdk.media import ReceivedTrack, loopback_only
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
OPEN = {"entry": {"waiting_room": {"enabled": False}}}


@pytest.fixture(autouse=True)
def _loopback() -> None:
    loopback_only()


class DecodeErrors(logging.Handler):
    """Counts aiortc's "failed to decode" warnings (rtcrtpreceiver's decoder worker)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1


@pytest.fixture
def decode_errors() -> Iterator[DecodeErrors]:
    handler = DecodeErrors()
    logger = logging.getLogger("aiortc.rtcrtpreceiver")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def _in_meeting(meeting: Hosted, name: str) -> MeetingClient:
    client = await MeetingClient.connect(meeting.join_url, name=name)
    assert client.status == "admitted"
    return client


async def _frames_after(track: ReceivedTrack, count: int, timeout: float = 20.0) -> None:
    target = track.frames + count
    async with asyncio.timeout(timeout):
        while track.frames < target:
            await track.recv()


async def _quiet(track: ReceivedTrack, seconds: float = 1.0) -> int:
    """Packets that arrive on a track during ``seconds`` (the measurement window itself)."""
    before = await track.packets()
    await asyncio.sleep(seconds)  # the quiet interval is what is measured
    return await track.packets() - before


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Any]:
    policy = {
        **OPEN,
        "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"},
        "screen_share": {"allowed": "with_grant", "surfaces": ["window"]},
    }
    hosted = await hosted_meeting(server.url, policy)
    yield hosted
    await hosted.close()


async def test_video_arrives_decodable_and_at_the_size_sent(
    meeting: Hosted, decode_errors: DecodeErrors
) -> None:
    bob = await _in_meeting(meeting, "Bob Smith")
    carol = await _in_meeting(meeting, "Carol Jones")
    camera = SyntheticVideoTrack(640, 480, fps=30)
    decisions = await bob.media.publish(camera=camera, microphone=SyntheticAudioTrack())
    assert {(d.source, d.reason) for d in decisions} == {
        ("camera", "published"),
        ("microphone", "published_muted"),
    }
    await carol.media.subscribe()
    assert bob.participant_id is not None
    video = await carol.media.wait_for_track(bob.participant_id, "camera")
    # The frame rate is measured in bench/media_meeting.py (measurement 5), never here:
    # a test must hold on a busy machine.
    await _frames_after(video, 60)
    assert video.sizes == {(640, 480)}
    assert decode_errors.count == 0
    audio = await carol.media.wait_for_track(bob.participant_id, "microphone")
    assert await _quiet(audio) == 0, "a muted microphone is not forwarded"
    for client in (bob, carol):
        await client.close()


async def test_an_operator_signal_logs_every_connection_and_what_it_was_sent(
    server: RunningServer, meeting: Hosted
) -> None:
    """SIGUSR1: one log line per connection, with its states and each stream's packets sent
    (what tells a viewer the server stopped sending to from one whose packets are lost)."""
    bob = await _in_meeting(meeting, "Bob Smith")
    carol = await _in_meeting(meeting, "Carol Jones")
    await bob.media.publish(camera=SyntheticVideoTrack(320, 240, fps=15))
    await carol.media.subscribe()
    assert bob.participant_id is not None
    assert carol.participant_id is not None
    video = await carol.media.wait_for_track(bob.participant_id, "camera")
    await _frames_after(video, 5)

    def sent_to_carol(lines: list[str]) -> int:
        line = next(line for line in lines if f"subscriber {carol.participant_id}:" in line)
        assert ": connected, ice completed, dtls connected;" in line, line
        found = re.search(rf"camera of {bob.participant_id}: (\d+) sent", line)
        assert found, line
        return int(found.group(1))

    first = server.describe_media()
    assert any(f"publisher {bob.participant_id}: connected; camera:" in line for line in first)
    before = sent_to_carol(first)
    await _frames_after(video, 5)
    assert sent_to_carol(server.describe_media()) > before > 0
    for client in (bob, carol):
        await client.close()


async def test_a_muted_client_that_keeps_sending_is_not_forwarded(meeting: Hosted) -> None:
    bob = await _in_meeting(meeting, "Bob Smith")
    carol = await _in_meeting(meeting, "Carol Jones")
    await bob.media.publish(microphone=SyntheticAudioTrack())
    await carol.media.subscribe()
    assert bob.participant_id is not None
    audio = await carol.media.wait_for_track(bob.participant_id, "microphone")
    await bob.raise_hand()
    await meeting.host.ask_to_unmute(bob.participant_id)
    await bob.request_unmute()
    await _frames_after(audio, 25)  # audio flows once the host let Bob speak
    await meeting.host.mute(bob.participant_id)
    await _quiet(audio, 0.3)  # packets already in flight land
    assert await _quiet(audio) == 0, "Bob's client keeps sending; the server forwards nothing"
    await meeting.host.ask_to_unmute(bob.participant_id)
    await bob.request_unmute()
    started = time.monotonic()
    await _frames_after(audio, 50)  # a second of audio, right after the unmute: no stall
    assert time.monotonic() - started < 3
    for client in (bob, carol):
        await client.close()


async def test_a_screen_is_not_forwarded_until_granted_and_confirmed(
    meeting: Hosted, decode_errors: DecodeErrors
) -> None:
    bob = await _in_meeting(meeting, "Bob Smith")
    carol = await _in_meeting(meeting, "Carol Jones")
    await carol.media.subscribe()
    window = SyntheticVideoTrack(640, 360, fps=15)
    decisions = await bob.media.publish(screen=window)
    assert [(d.source, d.allowed, d.reason) for d in decisions] == [
        ("screen", False, "share_needs_grant")
    ]
    assert bob.participant_id is not None
    screen = await carol.media.wait_for_track(bob.participant_id, "screen")
    assert await _quiet(screen) == 0, "an ungranted screen reaches nobody"
    await meeting.host.grant(bob.participant_id, "screen", minutes=5)
    await bob.wait_for(GrantReceived)
    decisions = await bob.media.republish()
    assert [(d.source, d.reason) for d in decisions] == [("screen", "share_awaiting_confirmation")]
    assert await _quiet(screen) == 0, "a granted screen its sharer did not confirm reaches nobody"
    assert (await bob.confirm_share()).reason == "share_confirmed"
    await _frames_after(screen, 15)
    await meeting.host.revoke(bob.participant_id, "screen")
    await bob.wait_for(NoticeReceived, lambda e: e.message.topic == "grant_revoked")
    await _quiet(screen, 0.3)
    assert await _quiet(screen) == 0, "a revoked share stops at once"
    await meeting.host.grant(bob.participant_id, "screen", minutes=5)
    await bob.wait_for(GrantReceived)
    # A bot shares in one call: publish, then confirm.
    shared = await bob.media.share_screen(window)
    assert (shared.reason, shared.rule) == ("share_confirmed", "/screen_share/allowed")
    await _frames_after(screen, 15)  # no stall after revoke and re-grant
    assert decode_errors.count == 0
    for client in (bob, carol):
        await client.close()


async def test_a_screen_relabelled_as_a_camera_is_refused(meeting: Hosted) -> None:
    bob = await _in_meeting(meeting, "Bob Smith")
    await bob.media.publish(screen=SyntheticVideoTrack(640, 360, fps=15))
    publisher = bob.media._publisher
    assert publisher is not None
    await publisher.setLocalDescription(await publisher.createOffer())
    from meetwarden import protocol as wire

    relabel = wire.Publish(
        sdp=publisher.localDescription.sdp,
        tracks=[wire.TrackInfo(mid=bob.media._sending["screen"].mid, source="camera")],
    )
    with pytest.raises(ProtocolError) as caught:
        await bob.exchange(relabel, wire.PublishAnswer)
    assert caught.value.code == "source_changed"
    await bob.close()


async def test_nobody_waiting_sends_or_receives_media(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    waiting = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    assert waiting.status == "waiting"
    with pytest.raises(ProtocolError) as caught:
        await waiting.media.publish(camera=SyntheticVideoTrack(320, 240, fps=15))
    assert caught.value.code == "not_admitted"
    with pytest.raises(ProtocolError) as caught:
        await waiting.media.subscribe()
    assert caught.value.code == "not_admitted"
    await waiting.close()
    await meeting.close()


@pytest.mark.parametrize(
    ("camera", "action", "expect"),
    [
        (None, "waiting_room", BackToWaitingRoom),
        ("frozen", "remove", Removed),
        ("black", "waiting_room", BackToWaitingRoom),
    ],
    ids=["no-camera", "frozen-camera", "black-camera"],
)
async def test_a_camera_that_does_not_work_is_handled_as_the_policy_says(
    server: RunningServer, camera: str | None, action: str, expect: type
) -> None:
    policy = {
        **OPEN,
        "entry": {
            **OPEN["entry"],
            "camera": {
                "required": True,
                "check_seconds": 4,
                "min_fps": 5,
                "on_missing": action,
                "on_lost": action,
                "lost_grace_seconds": 2,
            },
        },
    }
    meeting = await hosted_meeting(server.url, policy)
    bob = await _in_meeting(meeting, "Bob Smith")
    started = time.monotonic()
    if camera is not None:
        await bob.media.publish(camera=SyntheticVideoTrack(320, 240, fps=15, pattern=camera))  # type: ignore[arg-type]
    event = await bob.wait_for(expect, timeout=30)
    elapsed = time.monotonic() - started
    assert event.message.reason in ("camera_missing", "camera_still_lost")
    assert elapsed < 20, f"took {elapsed:.1f} s"
    audit = await meeting.api.audit(participant=bob.participant_id)
    assert any(e["decision"]["rule"].startswith("/entry/camera/on_") for e in audit)
    await bob.close()
    await meeting.close()


async def test_a_working_camera_keeps_its_place(server: RunningServer) -> None:
    policy = {
        **OPEN,
        "entry": {**OPEN["entry"], "camera": {"required": True, "check_seconds": 4}},
    }
    meeting = await hosted_meeting(server.url, policy)
    bob = await _in_meeting(meeting, "Bob Smith")
    await bob.media.publish(camera=SyntheticVideoTrack(320, 240, fps=15))
    state = await bob.wait_for(SelfChanged, lambda e: e.message.you.camera == "ok", timeout=15)
    assert state.message.you.camera == "ok"
    await bob.close()
    await meeting.close()
