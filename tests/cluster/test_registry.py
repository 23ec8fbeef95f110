"""Nodes register with a heartbeat, are listed while it beats, and are seen dead when it stops."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from support.cluster_nodes import HEARTBEAT, SHORT_HEARTBEAT, Nodes, eventually

from meetwarden.server.cluster import HEARTBEATS_PER_TTL, NodeInfo, NodeLoad, NodeRegistry

pytestmark = pytest.mark.anyio


async def test_a_registered_node_is_listed_with_what_it_said(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(rooms=2, participants=7, cpu=0.25))
    await nodes.add("node-b")
    live = await a.registry.live_nodes()
    assert [node.node_id for node in live] == ["node-a", "node-b"]
    entry = live[0]
    assert entry.public_url == "https://node-a.example.org"
    assert entry.address == "http://node-a.internal:8000"
    assert entry.load == NodeLoad(rooms=2, participants=7, cpu=0.25)
    assert not entry.draining
    assert abs(entry.updated_at - time.time()) < 60


async def test_the_heartbeat_keeps_a_node_alive_past_its_first_expiry(nodes: Nodes) -> None:
    a = await nodes.add("node-a", interval=SHORT_HEARTBEAT)
    first = await a.registry.get("node-a")
    assert first is not None

    async def beaten_past_first_expiry() -> bool:
        entry = await a.registry.get("node-a")
        assert entry is not None, "a heartbeating node's entry expired"
        return entry.updated_at > first.updated_at + a.registry.ttl

    await eventually(beaten_past_first_expiry, what="heartbeats past the first entry's expiry")
    assert await a.registry.is_alive("node-a")


async def test_the_load_is_reported_at_each_heartbeat(nodes: Nodes) -> None:
    a = await nodes.add("node-a", interval=SHORT_HEARTBEAT)
    a.load = NodeLoad(rooms=3, participants=40, cpu=0.5)

    async def reported() -> bool:
        entry = await a.registry.get("node-a")
        return entry is not None and entry.load.participants == 40

    await eventually(reported, what="the new load in the node's entry")


async def test_a_node_whose_heartbeat_stops_is_seen_dead_within_its_ttl(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    b = await nodes.add("node-b", interval=SHORT_HEARTBEAT)
    await b.registry.stop(deregister=False)  # as if killed: no goodbye
    stopped_at = time.monotonic()

    async def b_dead() -> bool:
        return [node.node_id for node in await a.registry.live_nodes()] == ["node-a"]

    await eventually(b_dead, within=5.0, what="node-b to drop out of the live nodes")
    # Within the entry's lifetime after the last heartbeat (plus slack for a loaded machine),
    # never before it: one missed heartbeat does not make a node dead.
    seen_after = time.monotonic() - stopped_at
    assert seen_after <= b.registry.ttl + 2.0
    assert not await a.registry.is_alive("node-b")
    assert await a.registry.get("node-b") is None
    # Listing pruned its id from the set of nodes.
    assert await a.client.smembers(nodes.keys.nodes) == {"node-a"}


async def test_a_node_is_not_dead_after_one_missed_heartbeat(nodes: Nodes) -> None:
    a = await nodes.add("node-a", heartbeat=False)  # registered once, never again
    assert a.registry.ttl == HEARTBEAT * HEARTBEATS_PER_TTL
    ttl_left_ms = await a.client.pttl(nodes.keys.node("node-a"))
    assert HEARTBEAT * 1000 < ttl_left_ms <= a.registry.ttl * 1000


async def test_a_clean_shutdown_deregisters_at_once(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    b = await nodes.add("node-b")
    await b.registry.stop()
    assert [node.node_id for node in await a.registry.live_nodes()] == ["node-a"]
    assert await a.client.smembers(nodes.keys.nodes) == {"node-a"}


async def test_draining_is_written_at_once(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    b = await nodes.add("node-b")
    await b.registry.set_draining()
    entry = await a.registry.get("node-b")
    assert entry is not None
    assert entry.draining
    await b.registry.set_draining(False)
    entry = await a.registry.get("node-b")
    assert entry is not None
    assert not entry.draining


async def test_an_unreadable_entry_is_left_out_of_the_list(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    await a.client.set(nodes.keys.node("node-x"), "{not json", px=60_000)
    await a.client.sadd(nodes.keys.nodes, "node-x")
    assert [node.node_id for node in await a.registry.live_nodes()] == ["node-a"]


async def test_a_node_id_that_cannot_name_a_key_is_refused(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    with pytest.raises(ValueError, match="not a node id"):
        NodeRegistry(a.client, "node:a")
    assert NodeInfo.from_json(NodeInfo("n", None, None).to_json()) == NodeInfo("n", None, None)


async def test_stop_ends_the_heartbeat_whenever_it_lands(nodes: Nodes) -> None:
    """A stop that lands while an entry is being written ends the heartbeat all the same.

    redis-py 8.1 can swallow a cancellation delivered inside a pipeline; the heartbeat
    then beat on and ``stop()`` waited for it forever (a node that never shut down).
    Hundreds of stops a few milliseconds into a 1 ms heartbeat land in every phase.
    """
    a = await nodes.add("node-a")
    for index in range(300):
        registry = NodeRegistry(a.client, f"n{index}", keys=nodes.keys, interval=0.001)
        await registry.start()
        await asyncio.sleep(random.random() * 0.005)  # somewhere in the beat, at random
        stopping = asyncio.ensure_future(registry.stop(deregister=index % 2 == 0))
        done, _ = await asyncio.wait({stopping}, timeout=10)
        assert done, f"stop() did not return (round {index})"
        stopping.result()
