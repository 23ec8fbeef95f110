"""Messages reach the node that holds a meeting, or every node; bad ones are dropped."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from support.cluster_nodes import SHORT_HEARTBEAT, Node, Nodes, eventually

from meetwarden.server.cluster import Message, MessageBus, NodeLoad

pytestmark = pytest.mark.anyio


async def got(node: Node, count: int) -> None:
    async def arrived() -> bool:
        return len(node.received) >= count

    await eventually(arrived, what=f"{count} message(s) at {node.node_id}")


async def test_a_message_for_a_meeting_reaches_the_node_that_holds_it(nodes: Nodes) -> None:
    a = await nodes.add("node-a", NodeLoad(participants=9), listen=True)
    b = await nodes.add("node-b", listen=True)
    c = await nodes.add("node-c", NodeLoad(participants=9), listen=True)
    assert (await a.placement.place("m1")).node_id == "node-b"

    sent_to = await c.bus.send_to_meeting("m1", {"action": "mute", "participant": "p7"})
    assert sent_to == "node-b"
    await got(b, 1)
    assert b.received == [
        Message("node-c", {"action": "mute", "participant": "p7"}, "m1", broadcast=False)
    ]
    # A marker sent after it to the other nodes arrives; nothing else did.
    for node in (a, c):
        assert await b.bus.send_to_node(node.node_id, {"marker": True}) == 1
        await got(node, 1)
        assert [message.body for message in node.received] == [{"marker": True}]


async def test_a_broadcast_reaches_every_listening_node(nodes: Nodes) -> None:
    listening = [await nodes.add(f"node-{index}", listen=True) for index in range(3)]
    assert await listening[0].bus.broadcast({"gate": "screen", "open": False}) == 3
    for node in listening:
        await got(node, 1)
        assert node.received == [Message("node-0", {"gate": "screen", "open": False}, None, True)]


async def test_messages_from_one_sender_arrive_in_the_order_sent(nodes: Nodes) -> None:
    a = await nodes.add("node-a", listen=True)
    b = await nodes.add("node-b", listen=True)
    for index in range(200):
        await a.bus.send_to_node("node-b", {"n": index})
        if index % 50 == 0:
            await a.bus.broadcast({"n": index, "also": "broadcast"})
    await got(b, 204)
    numbers = [message.body["n"] for message in b.received if "also" not in message.body]
    assert numbers == list(range(200))
    broadcasts = [message.body["n"] for message in b.received if message.broadcast]
    assert broadcasts == [0, 50, 100, 150]


async def test_concurrent_sends_of_one_sender_keep_the_order_of_the_calls(nodes: Nodes) -> None:
    a = await nodes.add("node-a", listen=True)
    b = await nodes.add("node-b", listen=True)
    # Started in this order, awaited together: the bus's lock publishes them in call order.
    sends = [
        asyncio.ensure_future(a.bus.send_to_node("node-b", {"n": index})) for index in range(50)
    ]
    assert await asyncio.gather(*sends) == [1] * 50
    await got(b, 50)
    assert [message.body["n"] for message in b.received] == list(range(50))


async def test_bad_payloads_are_dropped_and_the_listener_goes_on(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    a = await nodes.add("node-a", listen=True)
    inbox = nodes.keys.inbox("node-a")
    caplog.set_level(logging.WARNING, logger="meetwarden.cluster")
    for payload in (
        "{not json",
        "[1, 2]",
        '"a string"',
        '{"from": "node-b", "body": [1]}',
        '{"from": 7, "body": {}}',
        '{"from": "node-b", "body": {}, "meeting": 5}',
        b"\xff\xfe",
    ):
        assert await a.client.publish(inbox, payload) == 1
    await a.client.publish(nodes.keys.broadcast, "null")
    c = await nodes.add("node-c")
    assert await c.bus.send_to_node("node-a", {"after": "the bad ones"}) == 1
    await got(a, 1)
    assert a.received == [Message("node-c", {"after": "the bad ones"})]
    dropped = [record for record in caplog.records if "dropped a message" in record.getMessage()]
    assert len(dropped) == 8


async def test_a_handler_that_raises_does_not_stop_the_listener(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    a = await nodes.add("node-a")
    handled: list[Message] = []

    async def fragile(message: Message) -> None:
        if message.body.get("explode"):
            raise RuntimeError("a handler's bug")
        handled.append(message)

    bus = MessageBus(a.client, "node-a", fragile, keys=nodes.keys)
    await bus.start()
    try:
        caplog.set_level(logging.ERROR, logger="meetwarden.cluster")
        await a.bus.send_to_node("node-a", {"explode": True})
        await a.bus.send_to_node("node-a", {"fine": True})

        async def handled_one() -> bool:
            return len(handled) == 1

        await eventually(handled_one, what="the message after the one that raised")
        assert handled[0].body == {"fine": True}
        assert any("the handler failed" in record.getMessage() for record in caplog.records)
    finally:
        await bus.stop()


async def test_a_meeting_nobody_holds_gets_no_message(nodes: Nodes) -> None:
    a = await nodes.add("node-a", listen=True)
    b = await nodes.add("node-b", NodeLoad(participants=9), interval=SHORT_HEARTBEAT)  # deaf
    assert await a.bus.send_to_meeting("unplaced", {"x": 1}) is None
    assert (await a.placement.place("m-on-a")).node_id == "node-a"
    assert await b.bus.send_to_meeting("m-on-a", {"x": 1}) == "node-a"
    a.load = NodeLoad(participants=99)
    await a.registry.register()
    assert (await a.placement.place("m-on-b")).node_id == "node-b"
    # node-b holds it but does not listen: nothing delivered, and the sender is told.
    assert await a.bus.send_to_meeting("m-on-b", {"x": 1}) is None
    assert await a.bus.send_to_node("node-b", {"x": 1}) == 0
    await b.registry.stop(deregister=False)

    async def b_dead() -> bool:
        return not await a.registry.is_alive("node-b")

    await eventually(b_dead, what="node-b's entry to expire")
    # A dead holder gets nothing either (the meeting must be placed again first).
    assert await a.bus.send_to_meeting("m-on-b", {"x": 1}) is None


async def test_the_listener_subscribes_again_when_its_connection_drops(nodes: Nodes) -> None:
    a = await nodes.add("node-a", listen=True)
    b = await nodes.add("node-b")
    # Redis closes every subscriber's connection, as a restart or a network cut would.
    assert await b.client.client_kill_filter(_type="pubsub") >= 1

    async def listening_again() -> bool:
        return await b.bus.send_to_node("node-a", {"after": "the cut"}) == 1

    await eventually(listening_again, what="node-a's bus to subscribe again")
    await got(a, 1)
    assert a.received[0].body == {"after": "the cut"}


async def test_stop_ends_the_listener_whenever_it_lands(nodes: Nodes) -> None:
    """As for the heartbeat (test_registry.py): a stop inside a read still ends the bus."""
    a = await nodes.add("node-a")

    async def ignore(message: Message) -> None:
        pass

    for index in range(40):
        bus = MessageBus(a.client, f"n{index}", ignore, keys=nodes.keys)
        await bus.start()
        await a.bus.broadcast({"n": index})
        await asyncio.sleep(random.random() * 0.005)  # somewhere in a read, at random
        stopping = asyncio.ensure_future(bus.stop())
        done, _ = await asyncio.wait({stopping}, timeout=10)
        assert done, f"stop() did not return (round {index})"
        stopping.result()
