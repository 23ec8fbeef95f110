"""Edge viewers: a meeting's viewers served by a node that does not hold it (cascading).

Two `meetwarden serve` nodes on a real PostgreSQL and a real redis-server, both
with ``--edge-after 1``. The meeting lives on its node (A: the host followed it
there) with a publisher; a viewer who joins through the other node's link (B)
stays at B: their socket is relayed to A's Room over the cluster bus, and B serves
their media from one pipe that A sends the publisher's tracks through. What a
person notices: the viewer at B sees the publisher; the host's decisions at A
(mute, remove) reach them; they cannot publish from B.

One cluster for the module (no test here kills a node: test_edge_failover.py does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiortc.codecs.vpx
import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from support.adversary import Adversary, camera, decisions, microphone
from support.cluster import Cluster, running_cluster
from support.counting import HonestCounter, settle, until
from support.enforced import window
from support.impair import CLEAR, ImpairedLink, Impairment
from support.meetings import admit
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import RunningServer

from meetwarden.client_sdk import (
    HostAPI,
    MeetingClient,
    MeetwardenTimeoutError,
    ProtocolError,
    RosterChanged,
)
from meetwarden.client_sdk.media import loopback_only, settled
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(120)]

POLICY: dict[str, Any] = {
    "entry": {"waiting_room": {"enabled": False}, "reconnect_seconds": 300},
    "audio": {"mute_on_entry": False, "unmute": "after_raised_hand"},
}
QUIET_SECONDS = 2.0


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[Cluster]:
    directory: Path = tmp_path_factory.mktemp("edge")
    with running_cluster(directory, postgres_server, extra_args=["--edge-after", "1"]) as running:
        yield running


class Webinar:
    """A meeting on its node (A) with its host, and a publisher (Dana) who joined at A."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.clients: list[MeetingClient] = []

    async def start(self) -> Webinar:
        first = self.cluster.nodes[0]
        created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
        self.meeting_id = created.meeting_id
        self.host = await self._join(
            created.join_url, name="Alice Chen", host_token=created.host_token
        )
        self.holder: RunningServer = self.cluster.node(self.host.server)
        self.edge: RunningServer = self.cluster.other(self.holder.url)
        self.publisher = await self.join_at_holder("Dana Park")
        assert self.publisher.server == self.holder.url
        decisions = await self.publisher.media.publish(
            camera=SyntheticVideoTrack(320, 240, 30), microphone=SyntheticAudioTrack()
        )
        assert all(decision.allowed for decision in decisions), decisions
        assert self.publisher.participant_id is not None
        self.publisher_id: str = self.publisher.participant_id
        return self

    async def _join(
        self, link: str, name: str, cls: type[MeetingClient] = MeetingClient, **more: Any
    ) -> Any:
        client = await cls.connect(link, name=name, **more)
        self.clients.append(client)
        await client.wait_admitted()
        return client

    async def join_at_holder(self, name: str) -> MeetingClient:
        client: MeetingClient = await self._join(f"{self.holder.url}/m/{self.meeting_id}", name)
        return client

    async def viewer_at_edge(self, name: str, cls: type[MeetingClient] = MeetingClient) -> Any:
        viewer = await self._join(f"{self.edge.url}/m/{self.meeting_id}", name, cls)
        assert viewer.server == self.edge.url  # stayed at B: not sent to the meeting's node
        return viewer

    def holder_log(self) -> str:
        return "".join(self.holder.log)

    def pipe_id(self) -> str:
        """The pipe A opened for this meeting (its log says so, with the meeting's id)."""
        opened = re.findall(
            rf"meeting={re.escape(self.meeting_id[:8])} \| cascade: piping .* \(pipe (\w+)\)",
            self.holder_log(),
        )
        assert opened, "A never piped this meeting"
        return str(opened[-1])

    async def close(self) -> None:
        for client in reversed(self.clients):
            await client.close()


@pytest.fixture
async def webinar(cluster: Cluster) -> Any:
    started = await Webinar(cluster).start()
    try:
        yield started
    finally:
        await started.close()


async def test_a_viewer_at_another_node_sees_the_publisher_through_the_pipe(
    webinar: Webinar,
) -> None:
    viewer: HonestCounter = await webinar.viewer_at_edge("Bob Smith", HonestCounter)
    await viewer.media.subscribe()
    try:
        camera = await viewer.media.wait_for_track(webinar.publisher_id, "camera", timeout=30)
    except MeetwardenTimeoutError:  # say what B offered (a rare failure, not yet explained)
        raise AssertionError(f"offers from B: {viewer.wire.offered}") from None
    await viewer.media.count_frames(camera, lambda track: track.frames >= 30, timeout=30)
    assert camera.frames >= 30
    assert webinar.publisher_id in {entry.id for entry in viewer.roster}  # A's roster


async def test_a_microphone_the_host_muted_at_a_reaches_no_edge_viewer_however_it_insists(
    webinar: Webinar,
) -> None:
    eve = Adversary(webinar.holder.url, webinar.meeting_id)  # at A; ignores every refusal
    try:
        joined = await eve.join()
        assert joined["type"] == "admitted"
        reply = await eve.publish({"microphone": microphone(), "camera": camera()})
        assert sorted(decisions(reply)) == [
            ("camera", True, "published"),
            ("microphone", True, "published"),
        ]
        viewer: HonestCounter = await webinar.viewer_at_edge("Bob Smith", HonestCounter)
        await viewer.media.subscribe()
        assert eve.participant_id is not None
        await viewer.wire.flows(eve.participant_id, "microphone")  # control: the counter hears her
        await webinar.host.mute(eve.participant_id)  # decided at A; her gate closes at A
        refused = await eve.request({"type": "request_unmute"})
        assert not refused["allowed"]
        await settle()  # what A forwarded before the close may still be on its way
        measured = await window(viewer, eve, QUIET_SECONDS)
        assert measured.sent["microphone"] > 20, "her microphone kept sending"
        assert measured.received[(eve.participant_id, "camera")] > 0, (
            "the same pipe carries her camera"
        )
        assert measured.received[(eve.participant_id, "microphone")] == 0
        # Control: once the host lets her speak, the same counter at B hears her again.
        await webinar.host.ask_to_unmute(eve.participant_id)
        assert (await eve.request({"type": "request_unmute"}))["allowed"]
        await viewer.wire.flows(eve.participant_id, "microphone")
    finally:
        await eve.close()


async def test_a_removal_at_a_reaches_the_edge_viewer_and_the_pipe_closes_with_the_last_one(
    webinar: Webinar,
) -> None:
    viewer = await webinar.viewer_at_edge("Bob Smith")
    await viewer.media.subscribe()
    await viewer.media.wait_for_track(webinar.publisher_id, "camera", timeout=30)
    viewer_id = viewer.participant_id
    assert viewer_id is not None
    # The host is told of the viewer with the next roster batch.
    await webinar.host.wait_for(
        RosterChanged, lambda e: any(entry.id == viewer_id for entry in e.roster), timeout=30
    )
    await webinar.host.remove(viewer_id)
    await viewer.wait_closed()
    assert viewer.status == "dismissed"
    assert viewer.dismissal is not None
    assert viewer.dismissal.why == "removed"
    gone = viewer.participant_id
    await until(lambda: all(e.id != gone for e in webinar.host.roster), what="the roster at A")
    # B's last viewer of the meeting is gone: B closes its pipe, and A stops sending.
    pipe = webinar.pipe_id()
    await until(lambda: f"pipe {pipe} to" in webinar.holder_log(), what="A closed the pipe")


async def test_an_edge_viewer_only_receives_publishing_is_refused_with_a_reason(
    webinar: Webinar,
) -> None:
    viewer = await webinar.viewer_at_edge("Bob Smith")
    with pytest.raises(ProtocolError) as refused:
        await viewer.media.publish(camera=SyntheticVideoTrack(160, 120, 15))
    assert refused.value.code == "edge_receive_only"
    await viewer.chat("hello from the other node")  # everything else is A's, as ever


async def test_a_track_published_after_the_pipe_opened_reaches_the_edge_viewer_and_ends_there(
    webinar: Webinar,
) -> None:
    viewer: HonestCounter = await webinar.viewer_at_edge("Bob Smith", HonestCounter)
    await viewer.media.subscribe()
    await viewer.wire.flows(webinar.publisher_id, "camera")  # the pipe is open
    erin = await webinar.join_at_holder("Erin Lee")
    await erin.media.publish(camera=SyntheticVideoTrack(320, 240, 30))
    assert erin.participant_id is not None
    await viewer.wire.flows(erin.participant_id, "camera")  # piped as it was published
    await erin.close()  # away: her media ends at A, and so at B

    def offered_now() -> set[str]:
        return {participant for _, participant, _ in viewer.wire.offered[-1]}

    await until(lambda: erin.participant_id not in offered_now(), what="an offer without Erin")
    assert webinar.publisher_id in offered_now()


async def test_an_edge_viewer_waits_at_a_and_gets_no_media_at_b_until_the_host_admits_them(
    cluster: Cluster,
) -> None:
    first = cluster.nodes[0]
    policy = {"entry": {"waiting_room": {"enabled": True}}, "audio": {"mute_on_entry": False}}
    created = await HostAPI.create_meeting(first.url, policy, api_key=first.api_key)
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    edge = cluster.other(host.server)
    viewer: MeetingClient | None = None
    try:
        await host.media.publish(camera=SyntheticVideoTrack(320, 240, 30))
        assert host.participant_id is not None
        viewer = await MeetingClient.connect(f"{edge.url}/m/{created.meeting_id}", name="Bob Smith")
        assert (viewer.server, viewer.status) == (edge.url, "waiting")  # in A's waiting room
        with pytest.raises(ProtocolError) as refused:
            await viewer.media.subscribe()  # B serves no media to someone A has not admitted
        assert refused.value.code == "not_admitted"
        await admit(host, viewer)  # the host's decision, at A
        await viewer.media.subscribe()
        camera = await viewer.media.wait_for_track(host.participant_id, "camera", timeout=30)
        await viewer.media.count_frames(camera, lambda track: track.frames >= 10, timeout=30)
    finally:
        for client in (viewer, host):
            if client is not None:
                await client.close()


async def test_an_edge_viewer_behind_a_slow_link_is_told_why_a_video_stopped(
    webinar: Webinar,
) -> None:
    """B pauses a video its viewer's link cannot carry, as A would; the notice, worded by
    A's Room (it knows the publisher's name and the viewer's language), reaches them."""
    loopback_only()
    vpx: Any = aiortc.codecs.vpx
    saved = vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE
    pin_vp8_bitrate(500_000)
    eve = Adversary(webinar.holder.url, webinar.meeting_id, name="Eve Mallory")
    sam = Adversary(webinar.edge.url, webinar.meeting_id, name="Sam Slow")
    link = await ImpairedLink(seed=3).start()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        assert (await eve.join())["type"] == "admitted"
        assert (await eve.publish({"camera": SyntheticVideoTrack(320, 240, fps=30)}))[
            "type"
        ] == "publish_answer"
        assert (await sam.join())["type"] == "admitted"
        assert sam.ws_url.startswith(webinar.edge.ws_url), "Sam stayed at B"
        offer = await sam.request({"type": "subscribe"})
        link.set(CLEAR, Impairment(rate=300_000))
        # The tracks reach B through the pipe after Sam's first offer: B offers again as
        # each arrives, and Sam answers each (as the SDK does), until told of the pause.
        while offer["type"] == "subscribe_offer":
            if pc.remoteDescription is not None:
                # aiortc starts an offer's receivers only once its DTLS is connected (or
                # new): one applied during the handshake would never receive.
                await until(lambda: pc.connectionState == "connected", 30, "connected")
            await pc.setRemoteDescription(
                RTCSessionDescription(link.through_client(offer["sdp"]), "offer")
            )
            await pc.setLocalDescription(await pc.createAnswer())
            answer = link.through_server(pc.localDescription.sdp)
            await sam.send({"type": "subscribe_answer", "sdp": answer})
            offer = await sam.wait_for(
                lambda m: (
                    m["type"] == "subscribe_offer"
                    or (m["type"] == "notice" and m["topic"] == "video_paused")
                ),
                timeout=60,
                after=sam.messages.index(offer) + 1,
            )
        told = offer
    finally:
        await settled(pc)
        await pc.close()
        link.close()
        await eve.close()
        await sam.close()
        vpx.DEFAULT_BITRATE, vpx.MIN_BITRATE, vpx.MAX_BITRATE = saved
    names = {eve.participant_id: "Eve Mallory", webinar.publisher_id: "Dana Park"}
    assert told["about"] in names, told
    assert told["params"]["source"] == "camera"
    assert names[told["about"]] in told["text"]
    assert "too slow" in told["text"]
    assert [m for m in eve.seen("notice") if m["topic"] == "video_paused"] == []
