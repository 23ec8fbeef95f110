"""An edge viewer whose node missed a message from the meeting's node gets the meeting
afresh, instead of going on with a stale view of it.

The meeting's node (A) sends what an edge viewer at B is told in numbered batches over
the cluster bus (server/cascade/links.py); Redis pub/sub delivers at most once, and a
batch Redis counted as delivered can still be lost on the way (a subscriber's
connection dropped with it in flight). B sees the gap in the numbers at the next batch
and has its viewers reconnect (1012), which gives them the meeting as it is
(server/cascade/serving.py). Here B's connections to Redis go through a proxy that
swallows what Redis sends, then cuts them: a batch telling the viewer that someone
joined is lost for real.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from support.cluster import running_cluster, through_proxies
from support.counting import until
from support.cutting_proxy import CuttingProxy
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.redis import RedisServer

from meetwarden.client_sdk import Admitted, HostAPI, MeetingClient
from meetwarden.server.cluster import Keys, connect

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(120)]

POLICY: dict[str, Any] = {"entry": {"waiting_room": {"enabled": False}}}


async def _subscribers(redis: RedisServer, channel: str) -> int:
    client = connect(redis.url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def test_a_viewer_whose_node_lost_a_batch_gets_the_meeting_afresh(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    proxies: dict[str, CuttingProxy] = {}
    ways = through_proxies(tmp_path, proxies)

    clients: list[MeetingClient] = []
    try:
        with running_cluster(
            tmp_path, postgres_server, redis_urls=ways, extra_args=["--edge-after", "1"]
        ) as cluster:
            try:
                first = cluster.nodes[0]
                created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
                host = await MeetingClient.connect(
                    created.join_url, name="Alice Chen", host_token=created.host_token
                )
                clients.append(host)
                await host.wait_admitted()
                holder = cluster.node(host.server)
                edge = cluster.other(holder.url)
                edge_name = cluster.names[cluster.nodes.index(edge)]
                viewer = await MeetingClient.connect(
                    f"{edge.url}/m/{created.meeting_id}", name="Bob Smith"
                )
                clients.append(viewer)
                await (
                    viewer.wait_admitted()
                )  # taken now: the Admitted awaited below is the resume's
                assert viewer.server == edge.url  # an edge viewer, served by B

                # What Redis sends B is swallowed: the batch telling the viewer that Erin
                # joined (at A) is counted as delivered and never read.
                proxies[edge_name].swallow()
                erin = await MeetingClient.connect(
                    f"{holder.url}/m/{created.meeting_id}", name="Erin Walsh"
                )
                clients.append(erin)
                await erin.wait_admitted()
                await until(
                    lambda: b"Erin Walsh" in proxies[edge_name].swallowed_data(),
                    within=20,
                    what="the batch about Erin sent to B, and swallowed",
                )
                proxies[edge_name].cut()
                proxies[edge_name].mend()
                inbox = Keys().inbox(edge_name)
                # B listens again (a new connection); until then a batch would not be counted
                # as delivered at all, which A handles otherwise.
                for _ in range(400):
                    if await _subscribers(cluster.redis, inbox) == 1:
                        break
                    await asyncio.sleep(0.05)  # polled: Redis raises no event for a subscription
                else:
                    raise AssertionError("B did not listen on the bus again within 20 s")
                await host.chat("the next batch, numbered past the lost one")

                await viewer.wait_for(Admitted, timeout=60)  # B had the viewer reconnect
                assert viewer.server == edge.url
                assert "Erin Walsh" in {entry.name for entry in viewer.roster}
                assert re.search(r"cascade: batches \d+ to \d+ from \S+ lost", "".join(edge.log))
            finally:
                for client in clients:
                    await client.close()
    finally:
        for proxy in proxies.values():  # after the nodes: they drain through it
            proxy.stop()
