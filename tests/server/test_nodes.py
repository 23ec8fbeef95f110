"""Several nodes (`serve --redis-url ... --node-address ...`) sharing PostgreSQL and Redis.

Real PostgreSQL, a real redis-server and two `meetwarden serve` processes. What a
person notices: a meeting's people meet whichever node their link names (they are
sent to the node that holds it); a host's REST call on another node reaches it; a
node killed mid-meeting costs nobody their place or the host's decisions; a node
drained for maintenance keeps its meeting going and takes no new one.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from support.cluster import Cluster, running_cluster, through_proxies
from support.cluster import cluster as cluster  # the fixture
from support.cutting_proxy import CuttingProxy
from support.kept import POLICY, decide, kept, stored_with_grant
from support.meetings import admit
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import RunningServer

from meetwarden.client_sdk import (
    Admitted,
    ChatReceived,
    HostAPI,
    MeetingClient,
)

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


async def _meeting(cluster: Cluster, entry: RunningServer) -> tuple[str, str, MeetingClient]:
    """A meeting created through ``entry``, its host joined through ``entry``'s link."""
    created = await HostAPI.create_meeting(entry.url, POLICY, api_key=entry.api_key)
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    return created.meeting_id, created.host_token, host


async def test_a_meetings_people_meet_on_its_node_whichever_node_their_link_names(
    cluster: Cluster,
) -> None:
    first, second = cluster.nodes
    meeting_id, host_token, host = await _meeting(cluster, first)
    holder = host.server  # where the meeting was placed (the host followed it there)
    entry = cluster.other(holder)
    guest = await MeetingClient.connect(f"{entry.url}/m/{meeting_id}", name="Bob Smith")
    api = HostAPI(entry.url, meeting_id, host_token)  # REST through the node that holds none
    try:
        assert guest.server == holder  # sent to the meeting's node
        assert guest.entry_server == entry.url
        await admit(host, guest)
        status = await api.meeting()  # 307 to the holder, followed
        assert status.participants == 2
        assert guest.participant_id is not None
        await api.end_meeting()  # a host action that crosses nodes
        await guest.wait_closed()
        assert guest.status == "dismissed"
    finally:
        await api.close()
        for client in (host, guest):
            await client.close()
    assert {first.url, second.url} >= {holder.rstrip("/")}


async def test_a_node_killed_mid_meeting_its_people_resume_on_another_under_the_same_decisions(
    cluster: Cluster,
) -> None:
    first, _ = cluster.nodes
    meeting_id, _, host = await _meeting(cluster, first)
    holder = cluster.node(host.server)
    entry = cluster.other(holder.url)
    link = f"{entry.url}/m/{meeting_id}"
    guest = await MeetingClient.connect(link, name="Bob Smith")
    await host.wait_admitted()  # taken now: the Admitted awaited below is the resume's
    try:
        await admit(host, guest)
        guest_id = guest.participant_id
        assert guest_id is not None
        await decide(host, guest_id)
        await cluster.stored(meeting_id, stored_with_grant(guest_id))
        assert holder.process is not None
        os.kill(holder.process.pid, signal.SIGKILL)

        # The guest's SDK finds the node gone, asks the link's node, which takes the
        # meeting over once the dead node's heartbeat has expired, and resumes there.
        await guest.wait_for(Admitted, timeout=60)
        assert guest.server == entry.url
        await kept(guest, guest_id, link)
    finally:
        for client in (guest, host):
            await client.close()


async def test_a_draining_node_keeps_its_meeting_takes_no_new_one_and_stops_when_it_empties(
    cluster: Cluster,
) -> None:
    first, _ = cluster.nodes
    meeting_id, _, host = await _meeting(cluster, first)
    holder = cluster.node(host.server)
    guest = await MeetingClient.connect(f"{holder.url}/m/{meeting_id}", name="Bob Smith")
    await admit(host, guest)
    assert holder.process is not None
    holder.process.send_signal(signal.SIGTERM)  # maintenance: drain
    newcomer: MeetingClient | None = None
    try:
        await guest.chat("still here?")  # the meeting goes on
        heard = await host.wait_for(
            ChatReceived, lambda e: e.message.sender == guest.participant_id
        )
        assert heard.message.text == "still here?"
        # A meeting that starts now, through the draining node's own link, goes elsewhere.
        created = await HostAPI.create_meeting(holder.url, POLICY, api_key=holder.api_key)
        newcomer = await MeetingClient.connect(
            created.join_url, name="Dana Park", host_token=created.host_token
        )
        assert newcomer.server == cluster.other(holder.url).url
        assert holder.process.poll() is None  # still serving its meeting
    finally:
        for client in (guest, host):
            await client.close()  # the meeting empties...
    await asyncio.get_running_loop().run_in_executor(None, holder.process.wait, 30)
    assert holder.process.returncode is not None  # ...and the node stops by itself
    if newcomer is not None:
        await newcomer.chat("the other node is fine")
        await newcomer.close()


async def test_a_node_cut_off_from_redis_gives_its_meeting_up_to_a_node_that_is_not(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    proxies: dict[str, CuttingProxy] = {}
    ways = through_proxies(tmp_path, proxies)
    with running_cluster(tmp_path, postgres_server, redis_urls=ways) as cluster:
        first = cluster.nodes[0]
        created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
        api = HostAPI(first.url, created.meeting_id, created.host_token)
        await api.meeting()  # places it
        holder = await cluster.holder_of(created.meeting_id)
        entry = cluster.other(holder.url)
        link = f"{entry.url}/m/{created.meeting_id}"
        host = await MeetingClient.connect(link, name="Alice Chen", host_token=created.host_token)
        await host.wait_admitted()  # taken now: the Admitted awaited below is the resume's
        guest: MeetingClient | None = None
        try:
            guest = await MeetingClient.connect(link, name="Bob Smith")
            await admit(host, guest)
            guest_id = guest.participant_id
            assert guest_id is not None
            await host.mute(guest_id)
            await cluster.stored(
                created.meeting_id, lambda people: people.get(guest_id, {}).get("muted") is True
            )
            # The holder still runs, but no longer reaches Redis.
            proxies[cluster.names[cluster.nodes.index(holder)]].cut()

            # It gives the meeting up before its entry expires; the other node takes it
            # over, and everyone resumes there.
            await guest.wait_for(Admitted, timeout=60)
            await host.wait_for(Admitted, timeout=60)
            assert (guest.server, host.server) == (entry.url, entry.url)
            assert guest.you is not None
            assert guest.you.muted
            await guest.chat("on the other node now")
            heard = await host.wait_for(ChatReceived, lambda e: e.message.sender == guest_id)
            assert heard.message.text == "on the other node now"
            assert "giving up its meetings" in "".join(holder.log)
            assert holder.process is not None
            assert holder.process.poll() is None  # it did not die: it stood down
        finally:
            await api.close()
            for client in (guest, host):
                if client is not None:
                    await client.close()
            for proxy in proxies.values():
                proxy.stop()
