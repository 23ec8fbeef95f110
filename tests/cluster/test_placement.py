"""Meetings are placed by load, atomically; a dead node's meetings are taken over by exactly one."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from support.cluster_nodes import SHORT_HEARTBEAT, Node, Nodes, eventually

from meetwarden.server.cluster import Claim, NodeLoad, NoNodeAvailableError

pytestmark = pytest.mark.anyio


async def dead(observer: Node, node_id: str) -> None:
    async def gone() -> bool:
        return not await observer.registry.is_alive(node_id)

    await eventually(gone, what=f"{node_id}'s entry to expire")


async def test_a_new_meeting_goes_to_the_least_loaded_node(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(rooms=1, participants=10, cpu=0.1))
    await nodes.add("node-b", NodeLoad(rooms=1, participants=2, cpu=0.9))
    await nodes.add("node-c", NodeLoad(rooms=1, participants=5, cpu=0.1))
    claim = await a.placement.place("m1")
    assert (claim.node_id, claim.outcome) == ("node-b", "placed")
    assert await a.placement.meetings_of("node-b") == {"m1"}


async def test_equal_load_is_broken_by_cpu_then_id(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=3, cpu=0.5))
    await nodes.add("node-b", NodeLoad(participants=3, cpu=0.2))
    await nodes.add("node-c", NodeLoad(participants=3, cpu=0.2))
    assert (await a.placement.place("m1")).node_id == "node-b"


async def test_placements_count_at_once_between_heartbeats(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    await nodes.add("node-b")
    await nodes.add("node-c")
    # The heartbeats keep reporting no rooms: the placements themselves spread the meetings.
    placed = [await a.placement.place(f"m{index}") for index in range(9)]
    assert Counter(claim.node_id for claim in placed) == {"node-a": 3, "node-b": 3, "node-c": 3}


async def test_a_placed_meeting_stays_where_it_is(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    b = await nodes.add("node-b", NodeLoad(participants=50))
    first = await b.placement.place("m1")
    assert first.node_id == "node-a"
    a.load = NodeLoad(participants=500)
    again = await b.placement.place("m1")
    assert (again.node_id, again.generation, again.outcome) == ("node-a", first.generation, "held")
    looked_up = await b.placement.lookup("m1")
    assert looked_up is not None
    assert (looked_up.node_id, looked_up.alive) == ("node-a", True)
    assert await b.placement.lookup("never-placed") is None


async def test_many_nodes_racing_to_place_one_meeting_agree_on_one_claim(nodes: Nodes) -> None:
    racers = [await nodes.add(f"node-{index}") for index in range(5)]
    claims = await asyncio.gather(
        *(node.placement.place("contested") for node in racers for _ in range(8))
    )
    assert len({(claim.node_id, claim.generation) for claim in claims}) == 1
    assert Counter(claim.outcome for claim in claims) == {"placed": 1, "held": 39}
    holders = [node.node_id for node in racers if await node.placement.meetings_of(node.node_id)]
    assert holders == [claims[0].node_id]


async def test_racing_placements_of_many_meetings_each_get_one_holder(nodes: Nodes) -> None:
    racers = [await nodes.add(f"node-{index}") for index in range(3)]
    meetings = [f"m{index}" for index in range(30)]
    claims = await asyncio.gather(
        *(node.placement.place(meeting) for meeting in meetings for node in racers)
    )
    by_meeting: dict[str, set[str]] = {}
    for claim in claims:
        by_meeting.setdefault(claim.meeting_id, set()).add(claim.node_id)
    assert all(len(holders) == 1 for holders in by_meeting.values())
    assert sum(claim.outcome == "placed" for claim in claims) == len(meetings)
    placed = [await racers[0].placement.meetings_of(node.node_id) for node in racers]
    assert sorted(meeting for held in placed for meeting in held) == sorted(meetings)
    assert [len(held) for held in placed] == [10, 10, 10]  # and spread evenly


async def test_a_dead_nodes_meeting_is_taken_over_by_exactly_one(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=5))
    b = await nodes.add("node-b", interval=SHORT_HEARTBEAT)
    c = await nodes.add("node-c", NodeLoad(participants=5))
    first = await a.placement.place("m1")
    assert first.node_id == "node-b"
    await b.registry.stop(deregister=False)  # killed mid-meeting
    before_expiry = await a.placement.lookup("m1")
    assert before_expiry is not None
    await dead(a, "node-b")
    orphaned = await a.placement.lookup("m1")
    assert orphaned is not None
    assert (orphaned.node_id, orphaned.alive) == ("node-b", False)

    claims: list[Claim] = await asyncio.gather(
        *(node.placement.place("m1") for node in (a, c) for _ in range(10))
    )
    assert len({(claim.node_id, claim.generation) for claim in claims}) == 1
    assert Counter(claim.outcome for claim in claims) == {"taken_over": 1, "held": 19}
    successor = claims[0]
    assert successor.node_id in {"node-a", "node-c"}
    assert successor.generation > first.generation
    assert await a.placement.meetings_of("node-b") == set()
    assert await a.placement.meetings_of(successor.node_id) == {"m1"}


async def test_a_returning_holder_cannot_release_its_successors_claim(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=5))
    b = await nodes.add("node-b", interval=SHORT_HEARTBEAT)
    await a.placement.place("m1")
    await b.registry.stop(deregister=False)
    await dead(a, "node-b")
    successor = await a.placement.place("m1")
    assert successor.node_id == "node-a"
    await b.registry.start()  # node-b was only frozen, and comes back
    assert not await b.placement.release("m1", "node-b")
    assert (await b.placement.place("m1")).node_id == "node-a"
    assert await a.placement.release("m1", "node-a")
    assert await a.placement.lookup("m1") is None
    assert await a.placement.meetings_of("node-a") == set()


async def test_take_over_from_re_places_every_meeting_of_a_dead_node(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=100))
    b = await nodes.add("node-b", interval=SHORT_HEARTBEAT)
    await nodes.add("node-c", NodeLoad(participants=100))
    for index in range(4):
        assert (await a.placement.place(f"m{index}")).node_id == "node-b"
    alive = await a.placement.take_over_from("node-b")  # alive: nothing moves
    assert {(claim.node_id, claim.outcome) for claim in alive} == {("node-b", "held")}
    await b.registry.stop(deregister=False)
    await dead(a, "node-b")
    claims = await a.placement.take_over_from("node-b")
    assert sorted(claim.meeting_id for claim in claims) == ["m0", "m1", "m2", "m3"]
    assert all(claim.outcome == "taken_over" for claim in claims)
    assert Counter(claim.node_id for claim in claims) == {"node-a": 2, "node-c": 2}


async def test_a_draining_node_keeps_its_meetings_and_gets_no_new_ones(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=100))
    b = await nodes.add("node-b")
    assert (await a.placement.place("kept")).node_id == "node-b"
    await b.registry.set_draining()
    held = await a.placement.place("kept")
    assert (held.node_id, held.outcome) == ("node-b", "held")
    for index in range(3):
        assert (await a.placement.place(f"new{index}")).node_id == "node-a"
    assert await a.placement.meetings_of("node-b") == {"kept"}
    await a.registry.set_draining()
    with pytest.raises(NoNodeAvailableError, match="no live node"):
        await a.placement.place("nowhere")
    assert await a.placement.lookup("nowhere") is None


async def test_with_no_live_node_nothing_is_placed(nodes: Nodes) -> None:
    a = await nodes.add("node-a")
    await a.registry.stop()
    with pytest.raises(NoNodeAvailableError):
        await a.placement.place("m1")
