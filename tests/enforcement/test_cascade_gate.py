"""A gate closed on the meeting's node stops its media on every node.

The publisher and a viewer on node A, where the meeting's gates are; a viewer
on node B, who gets the tracks through a pipe (``server/media/pipe_*.py``). Honest
viewers count every RTP packet at the wire. Control phase: media reaches both.
The gates close at A: after what was in flight, neither viewer gets a packet,
and a viewer who joins B while they are closed gets nothing either (B forgot
what it cached). The gates open again: media reaches all three.
"""

from __future__ import annotations

import time

import pytest
from support.cascade import Node, Sender, Viewer, eventually
from support.cascade import nodes as nodes  # the fixture
from support.counting import settle, until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

KEYS = (("alice", "camera"), ("alice", "microphone"))
QUIET_SECONDS = 2.0


async def gates(a: Node, open: bool) -> float:
    """Set both of alice's gates at A; returns when A applied the first (its clock)."""
    at = (await a.call("set_gate", participant="alice", source="camera", open=open))["at"]
    await a.call("set_gate", participant="alice", source="microphone", open=open)
    return float(at)


async def flowing(viewers: list[Viewer], what: str) -> None:
    start = {(v.participant, key): v.packets(key) for v in viewers for key in KEYS}
    await until(
        lambda: all(
            v.packets(key) > start[(v.participant, key)] + 10 for v in viewers for key in KEYS
        ),
        within=30,
        what=what,
    )


async def test_a_gate_closed_at_a_stops_the_media_at_b(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender = Sender("alice")
    local, remote, late = Viewer("carol", decode=False), Viewer("bob"), Viewer("dave")
    try:
        await sender.publish(a)
        await local.subscribe(a)
        await remote.subscribe(b)
        offer = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
        for _, source in KEYS:
            await a.call("pipe_to", participant="alice", source=source, offer=offer)
        await flowing([local, remote], "control: media at A's viewer and at B's")
        await until(lambda: remote.frames["video"] > 10, within=30, what="video decoded at B")

        closed_at = await gates(a, open=False)
        await settle()  # what A forwarded before the close may still be on its way
        counted = {(v.participant, key): v.packets(key) for v in (local, remote) for key in KEYS}
        await late.subscribe(b)  # joins B while the gates are closed: B's cache is empty
        quiet_from = time.monotonic()
        await until(lambda: len(late.wire.offered) > 0, what="the late viewer's offer")
        stats: dict[str, int] = {}

        async def quiet_for_long() -> bool:
            stats.update((await b.call("pipe_stats", pipe_id=offer["pipe_id"]))["stats"])
            return time.monotonic() - quiet_from > QUIET_SECONDS

        await eventually(quiet_for_long, "the quiet phase")
        for viewer in (local, remote):
            for key in KEYS:
                assert viewer.packets(key) == counted[(viewer.participant, key)], (viewer, key)
                assert viewer.after(key, closed_at + 1.0) == 0
        assert all(late.packets(key) == 0 for key in KEYS)
        assert stats["forged"] == stats["foreign"] == 0

        await gates(a, open=True)
        await flowing([local, remote, late], "control: media again at every viewer")
        frames = late.frames["video"]
        await until(
            lambda: late.frames["video"] > frames + 10, what="video decoded by the late one"
        )
    finally:
        for viewer in (local, remote, late):
            await viewer.close()
        await sender.close()
