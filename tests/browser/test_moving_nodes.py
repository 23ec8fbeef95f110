"""A guest in real Chromium whose link names a node that does not hold the meeting is
taken to the node that does, and, when that node dies, back through the link's node to
the one that takes the meeting over, keeping their place (PostgreSQL, Redis, two nodes).
A viewer whose page stayed at the link's node (an edge viewer) is taken to the meeting's
node when that node stops at the end of its drain."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from support.browser import join, open_person, wait_for_screen
from support.cluster import Cluster, running_cluster
from support.cluster import cluster as cluster  # the fixture
from support.meetings import admit_named
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared

from meetwarden.client_sdk import Admitted, HostAPI, MeetingClient, RosterChanged

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(180)]


async def test_a_guest_is_taken_to_the_meetings_node_and_back_through_the_link_when_it_dies(
    browser: Browser, cluster: Cluster
) -> None:
    first = cluster.nodes[0]
    created = await HostAPI.create_meeting(
        first.url, {"entry": {"reconnect_seconds": 300}}, api_key=first.api_key
    )
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    holder = cluster.node(host.server)
    entry = cluster.other(holder.url)
    if host.entry_server != entry.url:  # the host too comes in through the other node's link
        await host.close()
        host = await MeetingClient.connect(
            f"{entry.url}/m/{created.meeting_id}", name="Alice Chen", host_token=created.host_token
        )
        assert host.server == holder.url
    await host.wait_admitted()  # taken now: the Admitted awaited below is the resume's
    bob = await open_person(browser, entry.url, "Bob Smith")
    try:
        page = bob.page
        await join(bob, f"{entry.url}/m/{created.meeting_id}")
        await wait_for_screen(bob, "waiting")  # on the holder's page, joined once
        assert page.url == f"{holder.url}/m/{created.meeting_id}"  # the fragment read and gone
        bob_id = await admit_named(host, "Bob Smith")
        await wait_for_screen(bob, "meeting")
        await cluster.stored(
            created.meeting_id, lambda people: people.get(bob_id, {}).get("status") == "admitted"
        )
        assert holder.process is not None
        os.kill(holder.process.pid, signal.SIGKILL)
        # The host's SDK and Bob's page each go back to their link's node, which takes
        # the meeting over once the dead node's heartbeat expired.
        await host.wait_for(Admitted, timeout=90)
        await page.wait_for_url(f"{entry.url}/m/{created.meeting_id}", timeout=90_000)
        await wait_for_screen(bob, "meeting")  # resumed: no waiting room, no host action
        await expect(page.locator("#screen-meeting")).to_be_visible()
        people = {entry.id: entry.name for entry in host.roster}
        assert people.get(bob_id) == "Bob Smith"
    finally:
        await host.close()
        await bob.context.close()


async def test_a_viewer_at_a_node_whose_drain_times_out_is_taken_to_the_meetings_node(
    browser: Browser, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Bob's page joined through B's link and stays there as an edge viewer (A holds the
    meeting). B drains and Bob does not leave: at the drain timeout B tells his page
    ``moved``, and the page resumes his place at A before B stops."""
    extra = ["--edge-after", "1", "--drain-timeout", "2"]
    with running_cluster(tmp_path, postgres_server, extra_args=extra) as cluster:
        first = cluster.nodes[0]
        policy = {"entry": {"waiting_room": {"enabled": False}, "reconnect_seconds": 300}}
        created = await HostAPI.create_meeting(first.url, policy, api_key=first.api_key)
        host = await MeetingClient.connect(
            created.join_url, name="Alice Chen", host_token=created.host_token
        )
        holder = cluster.node(host.server)
        edge = cluster.other(holder.url)
        bob = await open_person(browser, edge.url, "Bob Smith")
        try:
            page = bob.page
            await join(bob, f"{edge.url}/m/{created.meeting_id}")
            await wait_for_screen(bob, "meeting")
            assert page.url.startswith(f"{edge.url}/m/{created.meeting_id}")  # an edge viewer
            await host.wait_for(RosterChanged, lambda e: len(e.roster) == 2, timeout=30)
            bob_id = next(e.id for e in host.roster if e.name == "Bob Smith")
            assert edge.process is not None
            edge.process.send_signal(signal.SIGTERM)  # maintenance: B drains

            await page.wait_for_url(f"{holder.url}/m/{created.meeting_id}", timeout=60_000)
            await wait_for_screen(bob, "meeting")  # resumed at A: no join, no host action
            await asyncio.get_running_loop().run_in_executor(None, edge.process.wait, 30)
            await host.wait_for(
                RosterChanged,
                lambda e: any(p.id == bob_id and p.connected for p in e.roster),
                timeout=30,
            )
            assert [p.name for p in host.roster if p.id == bob_id] == ["Bob Smith"]
        finally:
            await host.close()
            await bob.context.close()
