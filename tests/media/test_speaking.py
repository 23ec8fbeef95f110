"""Speaking decided on the server from RFC 6464 audio levels, behind the gate."""

from __future__ import annotations

import asyncio
import struct

import pytest
from aiortc.mediastreams import AudioStreamTrack

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack
from meetwarden.server.media.events import SpeakersChanged
from meetwarden.server.media.speaking import LevelMeter, speakers

from .conftest import Meeting, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _packet(level: int, ext_id: int = 1) -> bytes:
    block = struct.pack("!HHBBH", 0xBEDE, 1, ext_id << 4, level, 0)
    return struct.pack("!BBHII", 0x90, 111, 1, 960, 7) + block + b"\xfc"


def _window(meter: LevelMeter, level: int, packets: int = 20) -> bool:
    for _ in range(packets):
        meter.observe(_packet(level))
    return meter.close_window(400.0)


def test_loud_speech_starts_and_silence_stops_it() -> None:
    meter = LevelMeter(1)
    assert _window(meter, 20)  # -20 dBov for a whole window
    silent = [_window(meter, 127) for _ in range(6)]
    assert not silent[-1]
    assert silent == sorted(silent, reverse=True)  # on for a while (smoothed), then off


def test_a_click_is_not_speech() -> None:
    meter = LevelMeter(1)
    for _ in range(3):
        meter.observe(_packet(0))  # 60 ms of the loudest: under a fifth of a window
        assert not meter.close_window(400.0)


def test_hysteresis_keeps_a_voice_near_the_threshold_steady() -> None:
    meter = LevelMeter(1)
    for _ in range(4):
        _window(meter, 20)
    assert meter.speaking
    verdicts = [_window(meter, 35) for _ in range(10)]  # at the start threshold: stays on
    assert all(verdicts)
    quiet = LevelMeter(1)
    assert not any(_window(quiet, 38) for _ in range(10))  # never reached the start


def test_malformed_and_foreign_packets_count_as_nothing() -> None:
    meter = LevelMeter(1)
    for _ in range(20):
        meter.observe(_packet(10, ext_id=2))  # another extension's id
        meter.observe(_packet(10)[:14])  # cut inside the block
        meter.observe(b"\x80" + bytes(11) + b"\xfc")  # no block
    assert not meter.close_window(400.0)


def test_a_closed_gate_is_silence_whatever_the_levels() -> None:
    loud, muted = LevelMeter(1), LevelMeter(1)
    for _ in range(20):
        loud.observe(_packet(10))
        muted.observe(_packet(10))
    assert speakers([("b", True, loud), ("a", False, muted)], 400.0) == ("b",)
    assert muted.smoothed == 0.0
    assert not muted.speaking


async def test_room_reports_the_loud_microphone_not_the_silent_or_the_muted(
    make_meeting,
) -> None:
    meeting: Meeting = make_meeting()
    try:
        publishers = {}
        for name, track, gate in (
            ("loud", SyntheticAudioTrack(), True),
            ("silent", AudioStreamTrack(), True),
            ("muted", SyntheticAudioTrack(), False),
        ):
            meeting.admit(name)
            meeting.room.set_gate(name, "microphone", gate)
            publisher = meeting.publisher(name)
            publisher.add("microphone", track)
            await publisher.publish()
            answer = publisher.pc.remoteDescription.sdp
            assert "urn:ietf:params:rtp-hdrext:ssrc-audio-level" in answer
            publishers[name] = publisher

        def reported() -> list[tuple[str, ...]]:
            return [o.speakers for o in meeting.observations if isinstance(o, SpeakersChanged)]

        await until(lambda: ("loud",) in reported(), what="the loud one speaking")
        assert all("muted" not in speakers for speakers in reported())
        track = meeting.room._track("muted", "microphone")
        assert track is not None
        assert track.packets_received > 0  # the muted one's packets did arrive
        # Control: the same microphone, its gate opened, is reported speaking.
        meeting.room.set_gate("muted", "microphone", True)
        await until(lambda: ("loud", "muted") in reported(), what="the unmuted one speaking")
        meeting.room.set_gate("muted", "microphone", False)
        await until(lambda: reported()[-1] == ("loud",), what="muted again: silent at once")
        assert all("silent" not in speakers for speakers in reported())
    finally:
        await asyncio.wait_for(meeting.close(), 20)
