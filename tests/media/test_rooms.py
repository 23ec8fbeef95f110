"""Meetings on one server never cross: a room offers, forwards and names only its own tracks.

Each publisher's camera has a frame size no other publisher uses, so the size a
subscriber decodes says whose picture reached it, whatever an offer claimed.
Every zero is counted beside the same subscriber's own meeting's media flowing.
"""

from __future__ import annotations

import pytest

from meetwarden.client_sdk.synthetic import Pattern, SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import (
    CameraCheck,
    CameraFrames,
    CameraLost,
    MediaError,
    MediaPlane,
    Observation,
    TrackEnded,
    TrackPublished,
)
from meetwarden.server.media.events import SpeakersChanged, VideoPaused

from .conftest import MediaServer, Meeting, Publisher, Subscriber, settled_packets, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

# Small, distinct camera sizes (multiples of 16: VP8 macroblocks) at a low rate: up to
# six encoders and twelve decoders share two cores with other tests.
SIZES = [(160, 112), (192, 144), (224, 160), (256, 176), (288, 208), (320, 240)]
FPS = 15


async def _publish(meeting: Meeting, participant_id: str, size: tuple[int, int]) -> Publisher:
    """A participant whose camera and microphone are published and allowed (gates open)."""
    client = meeting.publisher(participant_id)
    client.add("camera", SyntheticVideoTrack(*size, FPS))
    client.add("microphone", SyntheticAudioTrack())
    meeting.room.set_gate(participant_id, "camera", True)
    meeting.room.set_gate(participant_id, "microphone", True)
    await client.publish()
    return client


async def _only_its_own_meeting_reaches(
    subscriber: Subscriber, own: dict[str, tuple[int, int]]
) -> None:
    """Own media flows (the control); every offer, m-line, packet and picture is own."""
    for participant_id, size in own.items():
        video = subscriber.got(participant_id, "camera")
        audio = subscriber.got(participant_id, "microphone")
        await until(
            lambda v=video, a=audio: v.frames >= 10 and a.frames >= 10,
            within=30,
            what=f"{subscriber.id} receives {participant_id}",
        )
        assert video.sizes == {size}, f"{subscriber.id} decoded someone else's picture"
    assert subscriber.named() == set(own)
    assert {participant for participant, _ in subscriber.tracks.values()} == set(own)
    counts = await subscriber.packets_by_mid()
    assert all(count > 0 for count in counts.values())
    assert len(counts) == 2 * len(own)
    assert set(counts) <= set(subscriber.tracks)
    assert {key for key, got in subscriber.received.items() if got.frames} == {
        (participant_id, source) for participant_id in own for source in ("camera", "microphone")
    }


def _paused_by_their_link(meeting: Meeting, participant_id: str) -> set[str]:
    """The subscribers whose link the server last found too short for this camera: its
    stream is paused for them alone (on a loaded machine, loss on loopback does it)."""
    last: dict[str, bool] = {}
    for o in meeting.observations:
        if isinstance(o, VideoPaused) and (o.about, o.source) == (participant_id, "camera"):
            last[o.participant_id] = o.paused
    return {subscriber for subscriber, paused in last.items() if paused}


@pytest.mark.parametrize("rooms", [2, 3])
async def test_every_subscriber_gets_only_its_own_meetings_media(
    media_server: MediaServer, rooms: int
) -> None:
    sizes = iter(SIZES)
    meetings: list[Meeting] = []
    own: dict[str, dict[str, tuple[int, int]]] = {}
    early: dict[str, Subscriber] = {}
    for index in range(rooms):
        name = f"meeting-{index}"
        meeting = media_server.meeting(name)
        meetings.append(meeting)
        # One subscriber before anyone publishes (reached by renegotiations, also while
        # the next meetings' publishers arrive), one after (reached by its first offer).
        early[name] = await meeting.subscriber(f"{name}-early")
        # An aiortc client whose answer to a renegotiation lands before its first DTLS
        # handshake ends never starts those receivers (RTCPeerConnection.__connect).
        await early[name].connected()
        own[name] = {f"{name}-{who}": next(sizes) for who in ("alice", "bob")}
        for participant_id, size in own[name].items():
            await _publish(meeting, participant_id, size)
    assert media_server.plane.room_count == rooms
    for meeting in meetings:
        name = meeting.room.id
        late = await meeting.subscriber(f"{name}-late")
        for subscriber in (early[name], late):
            await _only_its_own_meeting_reaches(subscriber, own[name])
        for participant_id in own[name]:
            stats = meeting.room.track_stats(participant_id, "camera")
            assert stats is not None
            paused = _paused_by_their_link(meeting, participant_id)
            assert paused <= {early[name].id, late.id}
            assert stats.subscribers + len(paused) == 2
        everyone_else = {p for other, ids in own.items() if other != name for p in ids}
        for participant_id in everyone_else:
            assert meeting.room.track_stats(participant_id, "camera") is None
        # Every observation names people of this meeting only: its publishers, and its
        # subscribers where a stream was paused for their link (VideoPaused).
        named = {person for o in meeting.observations for person in _named(o)}
        assert named <= {*own[name], early[name].id, late.id}


def _named(observation: Observation) -> tuple[str, ...]:
    """The participants an observation names."""
    if isinstance(observation, SpeakersChanged):
        return tuple(observation.speakers)
    if isinstance(observation, VideoPaused):
        return (observation.participant_id, observation.about)
    return (observation.participant_id,)


async def test_the_same_participant_id_in_two_meetings_never_crosses(
    media_server: MediaServer,
) -> None:
    first, second = media_server.meeting("first"), media_server.meeting("second")
    first_size, second_size = SIZES[0], SIZES[3]
    await _publish(first, "alice", first_size)
    await _publish(second, "alice", second_size)
    bob_first = await first.subscriber("bob")
    bob_second = await second.subscriber("bob")
    await _only_its_own_meeting_reaches(bob_first, {"alice": first_size})
    await _only_its_own_meeting_reaches(bob_second, {"alice": second_size})
    for meeting in (first, second):
        stats = meeting.room.track_stats("alice", "camera")
        assert stats is not None
        assert stats.subscribers == 1
        published = [
            (o.participant_id, o.source)
            for o in meeting.observations
            if isinstance(o, TrackPublished)
        ]
        # its own alice's camera and microphone, once each (the camera check's frame
        # counts may come too, on a slow machine: they are not publications)
        assert sorted(published) == [("alice", "camera"), ("alice", "microphone")]

    # alice leaves the first meeting: the second meeting's alice goes on as before.
    first.room.close_participant("alice")
    assert not first.room.is_admitted("alice")
    assert second.room.is_admitted("alice")
    assert second.room.gate_is_open("alice", "camera")
    stopped = await settled_packets(bob_first, "alice", "camera")
    video = bob_second.got("alice", "camera")
    frames = video.frames
    await until(lambda: video.frames >= frames + 2 * FPS, within=30, what="second alice goes on")
    assert video.sizes == {second_size}
    assert await bob_first.packets("alice", "camera") == stopped
    assert [o for o in second.observations if isinstance(o, TrackEnded)] == []


FAST = CameraCheck(
    report_interval=0.25, window=1.0, stall_after=1.0, probe_interval=0.5, frozen_probes=3
)


def _of(observations: list[Observation], kind: type) -> list[Observation]:
    return [o for o in observations if isinstance(o, kind)]


async def test_observations_reach_only_their_own_meeting() -> None:
    """One ticker drives every room's cameras; each report goes to its own room's callback."""
    media_server = MediaServer(camera_check=FAST)
    try:
        black, moving = media_server.meeting("black"), media_server.meeting("moving")
        # The same id in both: a report routed by participant id would reach both rooms.
        patterns: list[tuple[Meeting, Pattern]] = [(black, "black"), (moving, "moving")]
        for meeting, pattern in patterns:
            alice = meeting.publisher("alice")
            alice.add("camera", SyntheticVideoTrack(*SIZES[0], FPS, pattern))
            alice.add("microphone", SyntheticAudioTrack())
            await alice.publish()
        await until(lambda: bool(_of(black.observations, CameraLost)), within=10, what="black")
        await until(
            lambda: len(_of(moving.observations, CameraFrames)) >= 8, within=10, what="frames"
        )
        assert _of(black.observations, CameraLost) == [CameraLost("alice", "black")]
        assert _of(moving.observations, CameraLost) == []
        # A track ends in one room only.
        mover = next(c for c in moving.clients if isinstance(c, Publisher))
        mover.transceivers["camera"].direction = "inactive"
        await mover.publish()
        ended = TrackEnded("alice", "camera", "unpublished")
        assert ended in moving.observations
        assert _of(black.observations, TrackEnded) == []
        # Closing a room reports only to that room.
        before = list(moving.observations)
        await black.room.close()
        assert TrackEnded("alice", "camera", "participant_closed") in black.observations
        assert [o for o in moving.observations if isinstance(o, TrackEnded)] == [
            o for o in before if isinstance(o, TrackEnded)
        ]
    finally:
        await media_server.close()


async def test_a_room_id_is_open_once_and_a_closed_room_refuses_everything() -> None:
    plane = MediaPlane()
    try:
        room = plane.room("meeting", on_observation=lambda _: None)
        with pytest.raises(ValueError, match="already open"):
            plane.room("meeting", on_observation=lambda _: None)
        room.admit("alice")
        await room.close()
        assert plane.room_count == 0
        for attempt in (
            room.publish("alice", "v=0", {}),
            room.subscribe("alice"),
            room.subscriber_answer("alice", "v=0"),
        ):
            with pytest.raises(MediaError) as refused:
                await attempt
            assert refused.value.code == "closed"
        with pytest.raises(MediaError):
            room.admit("alice")
        again = plane.room("meeting", on_observation=lambda _: None)  # the id is free again
        assert again is not room
        assert plane.room_count == 1
    finally:
        await plane.close()
    assert plane.room_count == 0
