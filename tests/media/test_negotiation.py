"""Sources are fixed by the server at negotiation; re-offers cannot relabel or duplicate them."""

from __future__ import annotations

import pytest
from aiortc import RTCSessionDescription

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import MediaError, Source, TrackEnded, TrackPublished

from .conftest import Meeting, Publisher, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _publishing(meeting: Meeting) -> Publisher:
    alice = meeting.publisher("alice")
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    alice.add("microphone", SyntheticAudioTrack())
    await alice.publish()
    return alice


async def _refused(meeting: Meeting, alice: Publisher, sources: dict[str, Source]) -> str:
    offer = await alice.offer()
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, sources)
    return refused.value.code


async def test_relabelling_a_camera_as_a_screen_is_refused(meeting: Meeting) -> None:
    alice = await _publishing(meeting)
    camera_mid = alice.transceivers["camera"].mid
    relabelled = {**alice.sources(), camera_mid: "screen"}
    assert await _refused(meeting, alice, relabelled) == "source_changed"  # type: ignore[arg-type]


async def test_a_second_track_of_the_same_source_is_refused(meeting: Meeting) -> None:
    alice = await _publishing(meeting)
    extra = alice.pc.addTransceiver(SyntheticVideoTrack(320, 240, 30), direction="sendonly")
    offer = await alice.offer()
    sources = {**alice.sources(), extra.mid: "camera"}
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, sources)  # type: ignore[arg-type]
    assert refused.value.code == "duplicate_source"


async def test_kind_must_match_the_source(meeting: Meeting) -> None:
    alice = meeting.publisher("alice")
    alice.add("microphone", SyntheticAudioTrack())
    offer = await alice.offer()
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, {"0": "camera"})
    assert refused.value.code == "kind_mismatch"


async def test_a_track_the_server_did_not_ask_for_is_refused(meeting: Meeting) -> None:
    alice = meeting.publisher("alice")
    alice.add("microphone", SyntheticAudioTrack())
    alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    offer = await alice.offer()
    with pytest.raises(MediaError) as refused:
        await meeting.room.publish("alice", offer, {"0": "microphone"})
    assert refused.value.code == "unknown_track"


async def test_adding_a_screen_renegotiates_subscribers_and_is_forwarded_once_granted(
    meeting: Meeting,
) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    alice = await _publishing(meeting)
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 5, what="camera")
    alice.add("screen", SyntheticVideoTrack(320, 240, 15))
    await alice.publish()
    await until(lambda: bob.answered >= 2, what="bob's renegotiation")
    await until(lambda: TrackPublished("alice", "screen") in meeting.observations, what="screen")
    assert await bob.packets("alice", "screen") == 0
    room.set_gate("alice", "screen", True)
    await until(lambda: bob.got("alice", "screen").frames >= 5, within=3, what="screen")
    # The share stops: the m-line goes inactive, the track ends, forwarding stops at once.
    alice.transceivers["screen"].direction = "inactive"
    await alice.publish()
    assert TrackEnded("alice", "screen", "unpublished") in meeting.observations
    assert room.track_stats("alice", "screen") is None


async def test_closing_a_participant_stops_its_media_at_once(meeting: Meeting) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    await _publishing(meeting)
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 5, what="camera")
    room.close_participant("alice")
    assert TrackEnded("alice", "camera", "participant_closed") in meeting.observations
    assert TrackEnded("alice", "microphone", "participant_closed") in meeting.observations
    assert room.track_stats("alice", "camera") is None
    assert not room.gate_is_open("alice", "camera")  # a rejoin starts closed again


def _firefox_style(offer: str, mid: str) -> str:
    """The offer as Firefox writes it: a bundled m-line after the first has port 0 and
    ``a=bundle-only`` (RFC 8843), instead of repeating the transport's port."""
    sections = offer.split("\r\nm=")
    for index, section in enumerate(sections[1:], start=1):
        if f"\r\na=mid:{mid}\r\n" in f"\r\n{section}\r\n":
            kind, _port, rest = section.split(" ", 2)
            sections[index] = f"{kind} 0 {rest}".replace(
                f"a=mid:{mid}\r\n", f"a=mid:{mid}\r\na=bundle-only\r\n"
            )
    return "\r\nm=".join(sections)


async def test_a_bundle_only_m_line_with_port_zero_is_published_as_firefox_sends_it(
    meeting: Meeting,
) -> None:
    room = meeting.room
    meeting.admit("alice")
    room.set_gate("alice", "camera", True)
    alice = meeting.publisher("alice")
    alice.add("microphone", SyntheticAudioTrack())
    camera = alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    offer = await alice.offer()
    assert camera.mid is not None
    firefox_offer = _firefox_style(offer, camera.mid)
    assert "m=video 0 " in firefox_offer
    assert "a=bundle-only" in firefox_offer
    answer = await room.publish("alice", firefox_offer, alice.sources())
    await alice.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 5, what="camera")


async def test_port_zero_without_bundle_only_is_a_stopped_m_line(meeting: Meeting) -> None:
    alice = meeting.publisher("alice")
    alice.add("microphone", SyntheticAudioTrack())
    camera = alice.add("camera", SyntheticVideoTrack(320, 240, 30))
    offer = await alice.offer()
    assert camera.mid is not None
    stopped = _firefox_style(offer, camera.mid).replace("a=bundle-only\r\n", "")
    await meeting.room.publish("alice", stopped, alice.sources())
    assert meeting.room.track_stats("alice", "camera") is None
    assert meeting.room.track_stats("alice", "microphone") is not None
