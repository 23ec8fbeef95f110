"""The media section of docs/bots.md, call for call, against a real server."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest
from support.meetings import hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    InvalidArgumentError,
    MeetingClient,
    MeetwardenTimeoutError,
    Muted,
    Unmuted,
)
from meetwarden.client_sdk.media import file_tracks, loopback_only
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def greeting(path: Path) -> Path:
    """Two seconds of a 660 Hz tone as a WAV file (what `file_tracks` plays)."""
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(48000)
        samples = (int(8000 * math.sin(2 * math.pi * 660 * i / 48000)) for i in range(96000))
        sound.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


async def test_the_guides_media_calls_publish_receive_mute_and_stop(
    server: RunningServer, tmp_path: Path
) -> None:
    loopback_only()
    policy = {"entry": {"waiting_room": {"enabled": False}}, "audio": {"unmute": "self"}}
    meeting = await hosted_meeting(server.url, policy)
    client = await MeetingClient.connect(meeting.join_url, name="Note Taker")
    viewer = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    try:
        decisions = await client.media.publish(
            camera=SyntheticVideoTrack(320, 240, fps=15), microphone=SyntheticAudioTrack()
        )
        assert {(d.source, d.allowed, d.reason) for d in decisions} == {
            ("camera", True, "published"),
            ("microphone", True, "published_muted"),
        }
        audio, video = file_tracks(str(greeting(tmp_path / "greeting.wav")))
        assert audio is not None
        assert video is None
        await client.media.publish(microphone=audio)

        await viewer.media.subscribe()
        assert client.participant_id is not None
        track = await viewer.media.wait_for_track(client.participant_id, "camera", timeout=30)
        frame = await track.recv()
        assert (frame.width, frame.height, track.frames) == (320, 240, 1)
        assert frame.to_ndarray(format="rgb24").shape == (240, 320, 3)

        await client.request_unmute()
        await client.wait_for(Unmuted)
        await client.mute_self()
        await client.wait_for(Muted)
        await client.media.stop("camera")

        with pytest.raises(InvalidArgumentError) as caught:
            await client.media.publish(camera=SyntheticAudioTrack())
        assert "camera takes a video track, not audio" in str(caught.value)
        assert caught.value.params["argument"] == "camera"
        with pytest.raises(MeetwardenTimeoutError):
            await viewer.media.wait_for_track(client.participant_id, "screen", timeout=0.5)
    finally:
        for person in (client, viewer):
            await person.close()
        await meeting.close()
