"""An edge viewer whose meeting's node dies: told, and back in the normal way.

Two `meetwarden serve` nodes (``--edge-after 1``) on a real PostgreSQL and a real
redis-server. The meeting's node (A) holds the host; a viewer joined through the
other node (B) and stays there as an edge viewer. A is killed (SIGKILL): B notices
its node entry expire, tells the viewer and closes their socket with 1012, and the
SDK resumes the way it does after any node's death: B takes the meeting over from
the shared database, and the viewer's resume token gives them back their place.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from support.cluster import running_cluster
from support.counting import HonestCounter, until
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared

from meetwarden import protocol as wire
from meetwarden.client_sdk import Admitted, ChatReceived, HostAPI, MeetingClient
from meetwarden.client_sdk.synthetic import SyntheticVideoTrack

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(180)]

POLICY: dict[str, Any] = {"entry": {"waiting_room": {"enabled": False}, "reconnect_seconds": 300}}


async def test_an_edge_viewer_whose_meeting_node_is_killed_is_told_and_resumes_at_its_node(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with running_cluster(tmp_path, postgres_server, extra_args=["--edge-after", "1"]) as cluster:
        # The viewer's Admitted is taken now: the one awaited below is the resume's.
        created, host, holder, edge, viewer = await _host_and_edge_viewer(cluster)
        try:
            viewer_id = viewer.participant_id
            assert viewer_id is not None
            await cluster.stored(created.meeting_id, lambda people: viewer_id in people)
            assert holder.process is not None
            os.kill(holder.process.pid, signal.SIGKILL)

            await viewer.wait_for(Admitted, timeout=60)
            assert viewer.close_code == wire.CLOSE_SERVICE_RESTART  # told to reconnect
            assert (viewer.server, viewer.participant_id) == (edge.url, viewer_id)
            assert await cluster.holder_of(created.meeting_id) is edge  # B took it over
            assert "is gone" in "".join(edge.log)
            await viewer.chat("still here, on the other node")
        finally:
            for client in (viewer, host):
                await client.close()


async def test_the_edge_node_killed_its_viewers_are_away_at_the_meetings_node_and_its_pipe_closes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with running_cluster(tmp_path, postgres_server, extra_args=["--edge-after", "1"]) as cluster:
        _, host, holder, edge, viewer = await _host_and_edge_viewer(
            cluster, resume_automatically=False
        )
        try:
            viewer_id = viewer.participant_id
            await _watching(host, viewer)
            assert edge.process is not None
            os.kill(edge.process.pid, signal.SIGKILL)

            def away() -> bool:
                entry = next((e for e in host.roster if e.id == viewer_id), None)
                return entry is not None and not entry.connected

            # A's Room keeps the viewer's place, as for any connection lost (they may
            # resume within reconnect_seconds), and A stops piping to the dead node.
            await until(away, within=30, what="the viewer away in the host's roster")
            dead = cluster.names[cluster.nodes.index(edge)]
            closed = f"to {dead} closed"
            await until(lambda: closed in "".join(holder.log), within=30, what="A's pipe closed")
        finally:
            for client in (viewer, host):
                await client.close()


async def test_a_draining_edge_node_keeps_its_viewers_sends_newcomers_on_and_stops_once_empty(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Maintenance on the node the viewers joined at (B): its first SIGTERM drains it.
    B holds no meeting, but its edge viewers are people in one: they keep watching
    until they leave, a newcomer through B's link is sent to the meeting's node, and
    B stops by itself once its last viewer is gone."""
    with running_cluster(tmp_path, postgres_server, extra_args=["--edge-after", "1"]) as cluster:
        created, host, holder, edge, viewer = await _host_and_edge_viewer(cluster)
        newcomer: MeetingClient | None = None
        try:
            await _watching(host, viewer)
            await _drain(edge)
            newcomer = await MeetingClient.connect(
                f"{edge.url}/m/{created.meeting_id}", name="Dana Park"
            )
            assert newcomer.server == holder.url, "a newcomer through B goes to A"
            await _still_in_the_meeting(host, viewer)  # served at B
            assert edge.process.poll() is None, "B stopped with an edge viewer in it"
            assert viewer.close_code is None
        finally:
            for client in (viewer, newcomer, host):
                if client is not None and client is not host:
                    await client.close()
        # The last edge viewer has left: B stops by itself; the meeting goes on at A.
        await asyncio.get_running_loop().run_in_executor(None, edge.process.wait, 30)
        assert edge.process.returncode is not None
        await host.chat("A is fine")
        await host.close()


async def _watching(host: MeetingClient, viewer: MeetingClient) -> None:
    """The host's camera, published, and arriving at the viewer."""
    await host.media.publish(camera=SyntheticVideoTrack(160, 120, 15))
    await viewer.media.subscribe()
    await viewer.media.wait_for_track(host.participant_id or "", "camera", 30)


async def _drain(node: Any) -> None:
    """The node's first SIGTERM (maintenance), once it says it drains."""
    assert node.process is not None
    node.process.send_signal(signal.SIGTERM)
    await until(lambda: "is draining" in "".join(node.log), within=30, what="draining")


async def _still_in_the_meeting(host: MeetingClient, viewer: HonestCounter) -> None:
    """The camera still reaches the viewer, and the viewer's chat reaches the host."""
    await viewer.wire.flows(host.participant_id, "camera", packets=30, within=30)
    await viewer.chat("still watching")
    heard = await host.wait_for(
        ChatReceived, lambda e: e.message.sender == viewer.participant_id, timeout=20
    )
    assert heard.message.text == "still watching"


async def _host_and_edge_viewer(
    cluster: Any, **viewer_options: Any
) -> tuple[Any, MeetingClient, Any, Any, HonestCounter]:
    """(the meeting, its host, the node holding it (A), the other node (B), a viewer who
    joined through B and stays there as an edge viewer, admitted)."""
    first = cluster.nodes[0]
    created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    holder = cluster.node(host.server)
    edge = cluster.other(holder.url)
    viewer = await HonestCounter.connect(
        f"{edge.url}/m/{created.meeting_id}", name="Bob Smith", **viewer_options
    )
    await viewer.wait_admitted()
    assert viewer.server == edge.url  # an edge viewer, not sent to the holder
    return created, host, holder, edge, viewer


async def test_a_draining_meeting_node_keeps_its_edge_viewers_watching_until_the_meeting_empties(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Maintenance on the meeting's node (A): it holds the meeting until nobody is in
    it, the people watching at B included, and the pipe to B goes on meanwhile."""
    with running_cluster(tmp_path, postgres_server, extra_args=["--edge-after", "1"]) as cluster:
        _, host, holder, edge, viewer = await _host_and_edge_viewer(cluster)
        try:
            await _watching(host, viewer)
            await _drain(holder)
            await _still_in_the_meeting(host, viewer)  # piped from A
            assert holder.process.poll() is None, "A stopped with people in its meeting"
            assert (viewer.close_code, host.close_code) == (None, None)
        finally:
            for client in (viewer, host):
                await client.close()
        await asyncio.get_running_loop().run_in_executor(None, holder.process.wait, 30)
        assert holder.process.returncode is not None  # emptied: A stops by itself
        assert edge.process is not None
        assert edge.process.poll() is None  # B goes on: it only served the meeting


async def test_edge_viewers_still_at_a_node_when_its_drain_times_out_go_on_at_the_meetings_node(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """B drains with a viewer who does not leave; at ``--drain-timeout`` B sends them to
    the meeting's node before it stops, so a link that names B (which no longer answers)
    does not leave them out: they resume at A, in the same place, and watch on."""
    extra = ["--edge-after", "1", "--drain-timeout", "2"]
    with running_cluster(tmp_path, postgres_server, extra_args=extra) as cluster:
        _, host, holder, edge, viewer = await _host_and_edge_viewer(cluster)
        try:
            viewer_id = viewer.participant_id
            await _watching(host, viewer)
            await _drain(edge)

            await viewer.wait_for(Admitted, timeout=60)  # the resume's
            assert viewer.close_code == wire.CLOSE_MOVED  # told where to go, then closed
            assert (viewer.server, viewer.participant_id) == (holder.url, viewer_id)
            await asyncio.get_running_loop().run_in_executor(None, edge.process.wait, 30)
            assert edge.process.returncode is not None  # B stopped, as the timeout says
            await viewer.media.subscribe()  # media starts again after a resume
            await _still_in_the_meeting(host, viewer)  # at A now
        finally:
            for client in (viewer, host):
                await client.close()
