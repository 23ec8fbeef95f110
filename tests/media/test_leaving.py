"""Only admitted participants get media, and a participant who leaves gets and gives none.

``close_participant`` is synchronous: the assertions right after it run before
the event loop gets another turn. The races hold the server's own coroutine at
an await (``Hold``) while the participant leaves, then let it go on: what that
await created must be released and never forwarded, even to a client that
somehow got the answer. Every zero is counted beside media that flows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import pytest
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import MediaError, SubscriberOffer, TrackEnded, TrackPublished
from meetwarden.server.media import publisher as publisher_module
from meetwarden.server.media import subscriber as subscriber_module
from meetwarden.server.media.publisher import PublisherConnection
from meetwarden.server.media.subscriber import SubscriberConnection

from .conftest import TIMEOUT, MediaServer, Meeting, Publisher, settled_packets, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

When = Literal["before", "after"]


async def _flowing(meeting: Meeting, participant_id: str) -> Publisher:
    """A participant publishing camera and microphone, both allowed."""
    client = meeting.publisher(participant_id)
    client.add("camera", SyntheticVideoTrack(192, 144, 15))
    client.add("microphone", SyntheticAudioTrack())
    meeting.room.set_gate(participant_id, "camera", True)
    meeting.room.set_gate(participant_id, "microphone", True)
    await client.publish()
    return client


def _count_peer_connections(monkeypatch: pytest.MonkeyPatch) -> list[RTCPeerConnection]:
    """Every RTCPeerConnection the server's media code creates from now on."""
    created: list[RTCPeerConnection] = []

    class Counted(RTCPeerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(publisher_module, "RTCPeerConnection", Counted)
    monkeypatch.setattr(subscriber_module, "RTCPeerConnection", Counted)
    return created


async def _refused(attempt: Any, code: str = "not_admitted") -> None:
    with pytest.raises(MediaError) as refused:
        await attempt
    assert refused.value.code == code


async def test_a_participant_not_admitted_gets_no_connection_at_all(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mallory is admitted to another meeting on this server, not to this one."""
    here, elsewhere = media_server.meeting("here"), media_server.meeting("elsewhere")
    elsewhere.admit("mallory")
    client = Publisher(here.room, "mallory")
    here.clients.append(client)
    client.add("camera", SyntheticVideoTrack(192, 144, 15))
    offer = await client.offer()
    created = _count_peer_connections(monkeypatch)
    here.room.set_gate("mallory", "camera", True)  # a stale "open" for a stranger: ignored
    await _refused(here.room.publish("mallory", offer, client.sources()))
    await _refused(here.room.subscribe("mallory"))
    await _refused(here.room.subscriber_answer("mallory", offer))
    assert created == []
    assert not here.room.gate_is_open("mallory", "camera")
    # The control: once admitted, the same requests get connections (gates start closed).
    here.admit("mallory")
    assert not here.room.gate_is_open("mallory", "camera")
    await here.room.publish("mallory", offer, client.sources())
    await here.room.subscribe("mallory")
    assert len(created) == 2


async def test_after_close_participant_nothing_flows_to_or_from_them(meeting: Meeting) -> None:
    alice = await _flowing(meeting, "alice")
    await _flowing(meeting, "bob")
    alice_sees = await meeting.subscriber("alice")
    bob_sees = await meeting.subscriber("bob")
    for viewer, other in ((alice_sees, "bob"), (bob_sees, "alice")):  # the control
        for source in ("camera", "microphone"):
            got = viewer.got(other, source)  # type: ignore[arg-type]
            await until(lambda g=got: g.frames >= 10, what=f"{viewer.id} gets {other}'s {source}")
    offers = bob_sees.answered

    meeting.room.close_participant("alice")
    # Synchronous: before the loop runs again, nothing of alice is forwarded either way.
    for source in ("camera", "microphone"):
        assert meeting.room.track_stats("alice", source) is None
        bob_track = meeting.room.track_stats("bob", source)
        assert bob_track is not None
        assert bob_track.subscribers == 0  # alice was its only subscriber
        assert not meeting.room.gate_is_open("alice", source)
    assert not meeting.room.is_admitted("alice")
    assert TrackEnded("alice", "camera", "participant_closed") in meeting.observations
    await _refused(meeting.room.subscribe("alice"))
    await _refused(meeting.room.publish("alice", await alice.offer(), alice.sources()))
    meeting.room.set_gate("alice", "camera", True)  # a late "open" after the close: ignored
    assert not meeting.room.gate_is_open("alice", "camera")

    # bob is offered his meeting without alice, and receives nothing more of her.
    await until(lambda: bob_sees.answered > offers, what="bob's renegotiation")
    assert all(track.participant_id != "alice" for track in bob_sees.offered[-1].tracks)
    from_alice = await settled_packets(bob_sees, "alice", "camera")
    # alice receives nothing more of bob, though bob keeps sending.
    to_alice = await settled_packets(alice_sees, "bob", "camera")
    sent = meeting.room.track_stats("bob", "camera")
    assert sent is not None
    await until(
        lambda: (
            meeting.room.track_stats("bob", "camera").packets_received  # type: ignore[union-attr]
            >= sent.packets_received + 30
        ),
        what="bob keeps sending",
    )
    assert await bob_sees.packets("alice", "camera") == from_alice
    assert await alice_sees.packets("bob", "camera") == to_alice
    assert bob_sees.pc.connectionState == "connected"


class Hold:
    """Holds one server coroutine of one participant at an await until ``release``."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._go = asyncio.Event()
        self.connections: list[Any] = []
        self.results: list[Any] = []

    def wrap(
        self,
        monkeypatch: pytest.MonkeyPatch,
        owner: type,
        name: str,
        participant_id: str,
        when: When,
    ) -> None:
        """Hold ``owner.name`` of ``participant_id``'s connection before or after it runs."""
        original: Callable[..., Any] = getattr(owner, name)
        hold = self

        async def held(connection: Any, *args: Any) -> Any:
            if connection.participant_id != participant_id:
                return await original(connection, *args)
            hold.connections.append(connection)
            if when == "before":
                await hold._wait()
            result = await original(connection, *args)
            hold.results.append(result)
            if when == "after":
                await hold._wait()
            return result

        monkeypatch.setattr(owner, name, held)

    async def _wait(self) -> None:
        self.reached.set()
        await self._go.wait()

    async def until_reached(self) -> None:
        await asyncio.wait_for(self.reached.wait(), TIMEOUT)

    def release(self) -> None:
        self._go.set()


async def _alice_and_bob(meeting: Meeting) -> Any:
    """alice publishes (allowed), bob watches her: the control that media flows."""
    await _flowing(meeting, "alice")
    bob = await meeting.subscriber("bob")
    await until(lambda: bob.got("alice", "camera").frames >= 10, what="bob's video")
    return bob


async def _bob_keeps_watching_only_alice(meeting: Meeting, bob: Any) -> None:
    video = bob.got("alice", "camera")
    frames = video.frames
    await until(lambda: video.frames >= frames + 15, within=20, what="bob's video goes on")
    assert "mallory" not in bob.named()
    assert set(await bob.packets_by_mid()) <= set(bob.tracks)
    assert meeting.room.track_stats("mallory", "camera") is None
    published = [o for o in meeting.observations if isinstance(o, TrackPublished)]
    assert all(o.participant_id != "mallory" for o in published)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_leaving_during_a_publish_await_forwards_nothing(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch, when: When
) -> None:
    bob = await _alice_and_bob(meeting)
    mallory = meeting.publisher("mallory")
    mallory.add("camera", SyntheticVideoTrack(192, 144, 15))
    mallory.add("microphone", SyntheticAudioTrack())
    meeting.room.set_gate("mallory", "camera", True)
    meeting.room.set_gate("mallory", "microphone", True)
    hold = Hold()
    hold.wrap(monkeypatch, PublisherConnection, "negotiate", "mallory", when)
    offer = await mallory.offer()
    publishing = asyncio.create_task(meeting.room.publish("mallory", offer, mallory.sources()))
    await hold.until_reached()
    meeting.room.close_participant("mallory")
    hold.release()
    with pytest.raises(MediaError) as refused:
        await publishing
    assert refused.value.code == "not_admitted"
    (connection,) = hold.connections
    assert connection.tracks == {}  # whatever the negotiation added was ended
    assert not meeting.room.gate_is_open("mallory", "camera")
    if hold.results:  # a client that got the answer anyway tries to send
        answer = hold.results[0][0]
        await mallory.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await meeting.room.settled()
    assert connection.pc.connectionState == "closed"
    await _bob_keeps_watching_only_alice(meeting, bob)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_leaving_during_a_subscribe_await_forwards_nothing(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch, when: When
) -> None:
    bob = await _alice_and_bob(meeting)
    meeting.admit("mallory")
    hold = Hold()
    hold.wrap(monkeypatch, SubscriberConnection, "make_offer", "mallory", when)
    subscribing = asyncio.create_task(meeting.room.subscribe("mallory"))
    await hold.until_reached()
    meeting.room.close_participant("mallory")
    hold.release()
    with pytest.raises(MediaError) as refused:
        await subscribing
    assert refused.value.code == "not_admitted"
    (connection,) = hold.connections
    assert connection.closed
    await meeting.room.settled()
    assert connection.pc.connectionState == "closed"
    assert meeting.room.track_stats("alice", "camera").subscribers == 1  # type: ignore[union-attr]
    await _bob_keeps_watching_only_alice(meeting, bob)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_leaving_during_a_subscriber_answer_await_forwards_nothing(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch, when: When
) -> None:
    """The answer would have started alice's media to mallory: it must not."""
    bob = await _alice_and_bob(meeting)
    meeting.admit("mallory")
    offer: SubscriberOffer = await meeting.room.subscribe("mallory")
    assert {track.participant_id for track in offer.tracks} == {"alice"}
    client = RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )
    try:
        await client.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await client.setLocalDescription(await client.createAnswer())
        hold = Hold()
        hold.wrap(monkeypatch, SubscriberConnection, "apply_answer", "mallory", when)
        answering = asyncio.create_task(
            meeting.room.subscriber_answer("mallory", client.localDescription.sdp)
        )
        await hold.until_reached()
        meeting.room.close_participant("mallory")
        hold.release()
        with pytest.raises(MediaError) as refused:
            await answering
        assert refused.value.code == "not_admitted"
        (connection,) = hold.connections
        assert all(down not in track.downs for track, down in connection.downs())
        stats = meeting.room.track_stats("alice", "camera")
        assert stats is not None
        assert stats.subscribers == 1  # bob only
        await _bob_keeps_watching_only_alice(meeting, bob)
        received = 0
        for transceiver in client.getTransceivers():
            for report in (await transceiver.receiver.getStats()).values():
                if report.type == "inbound-rtp":
                    received += report.packetsReceived
        assert received == 0
    finally:
        await client.close()


async def test_a_peer_that_never_finishes_closing_stalls_nobody(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Releasing a connection that hangs (a stuck peer) runs beside the meeting, not in it."""
    from meetwarden.server.media import room_scope

    stuck = asyncio.Event()  # never set: the release of alice's connections never ends

    async def hangs(pc: RTCPeerConnection, close_within: float = 5.0) -> None:
        await stuck.wait()

    monkeypatch.setattr(room_scope, "release_peer_connection", hangs)
    await _flowing(meeting, "alice")
    await _flowing(meeting, "bob")
    carol_sees = await meeting.subscriber("carol")
    got = carol_sees.got("bob", "camera")
    await until(lambda: got.frames >= 10, what="carol sees bob (the control)")

    meeting.room.close_participant("alice")  # returns at once, though the release hangs
    before = got.frames
    await until(lambda: got.frames >= before + 30, what="bob still reaches carol")
    await _flowing(meeting, "dave")  # and the meeting still takes newcomers
    dave_seen = carol_sees.got("dave", "camera")
    await until(lambda: dave_seen.frames >= 10, what="carol sees dave, who came after")
    stuck.set()
