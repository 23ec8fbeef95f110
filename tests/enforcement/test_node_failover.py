"""A host's mute holds on the node that takes a meeting over when its node is killed.

Two nodes on a real PostgreSQL and a real Redis. The adversary knows which node
holds the meeting and talks to it directly; after the host muted it, that node
is killed, and the adversary resumes on the node that took the meeting over and
sends its microphone (and its camera, the control) again. What an honest
participant receives there is counted at the wire.
"""

from __future__ import annotations

import os
import signal

import pytest
from support.adversary import Adversary, camera, decisions, microphone
from support.cluster import Cluster
from support.cluster import cluster as cluster  # the fixture
from support.counting import HonestCounter, settle
from support.enforced import Meeting, admit_adversary, honest, window
from support.postgres import postgres_server as postgres_server  # the fixture, shared

from meetwarden.client_sdk import Admitted, HostAPI

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(180)]


async def test_a_host_mute_holds_on_the_node_that_takes_the_meeting_over(
    cluster: Cluster,
) -> None:
    first = cluster.nodes[0]
    policy = {
        "audio": {"mute_on_entry": False, "unmute": "host_only"},
        "entry": {"reconnect_seconds": 300},
    }
    created = await HostAPI.create_meeting(first.url, policy, api_key=first.api_key)
    api = HostAPI(first.url, created.meeting_id, created.host_token)
    await api.meeting()  # places the meeting
    holder = await cluster.holder_of(created.meeting_id)
    entry = cluster.other(holder.url)
    link = f"{entry.url}/m/{created.meeting_id}"  # everyone's link names the other node
    host = await HonestCounter.connect(link, name="Alice Chen", host_token=created.host_token)
    assert isinstance(host, HonestCounter)
    meeting = Meeting(created.meeting_id, link, created.host_token, host, api)
    eve = Adversary(holder.url, created.meeting_id)
    try:
        carol = await honest(meeting, "Carol Jones")
        assert carol.server == holder.url
        await carol.media.subscribe()
        await admit_adversary(meeting, eve)
        assert decisions(await eve.publish({"microphone": microphone()})) == [
            ("microphone", True, "published")
        ]
        await carol.wire.flows(eve.participant_id, "microphone")  # control: Eve is heard
        assert eve.participant_id is not None
        await host.mute(eve.participant_id)
        await settle()
        assert (await window(carol, eve)).received[(eve.participant_id, "microphone")] == 0
        eve_id = eve.participant_id
        await cluster.stored(
            created.meeting_id, lambda people: people.get(eve_id, {}).get("muted") is True
        )

        assert holder.process is not None
        os.kill(holder.process.pid, signal.SIGKILL)
        await carol.wait_for(Admitted, timeout=60)  # resumed through the link's node
        assert carol.server == entry.url
        await carol.media.subscribe()
        eve.ws_url = eve.ws_url.replace(holder.url.split("//")[1], entry.url.split("//")[1])
        resumed = await eve.resume()
        assert resumed["type"] == "admitted"
        assert resumed["you"]["muted"]
        reply = await eve.publish({"microphone": microphone(), "camera": camera()}, fresh=True)
        await carol.wire.flows(eve.participant_id, "camera")  # the new node forwards Eve
        measured = await window(carol, eve)
        assert measured.sent["microphone"] > 20, "the adversary's microphone kept sending"
        assert measured.received[(eve.participant_id, "microphone")] == 0, (
            "a host mute must hold on the node that took the meeting over"
        )
        assert ("microphone", True, "published_muted") in decisions(reply)
    finally:
        await eve.close()
        await meeting.close()
