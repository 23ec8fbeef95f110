"""A meeting larger than one node: tracks piped from node A to node B's viewers.

Two media nodes in two processes (``support/cascade_node.py``), real aiortc
clients on loopback: the publisher at A, viewers at B. What B's viewers receive
went through the pipe (``server/media/pipe_*.py``): decoded there, counted at
the wire; forged datagrams on B's pipe port reach nobody; a viewer's keyframe
request at B reaches the publisher, its NACKs are answered at B, and packets lost
between the nodes are repaired from A's cache.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from support.cascade import Node, Relay, Sender, Viewer, eventually
from support.cascade import nodes as nodes  # the fixture
from support.counting import MARKER

from meetwarden.server.media.pipe_wire import MEDIA, PipeOffer, seal

from .conftest import until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

CAMERA = ("alice", "camera")
MICROPHONE = ("alice", "microphone")


async def published(a: Node, sender: Sender) -> None:
    await sender.publish(a)

    async def flowing() -> bool:
        for source in ("camera", "microphone"):
            stats = (await a.call("track_stats", participant="alice", source=source))["stats"]
            if not stats or stats["packets_received"] == 0:
                return False
        return True

    await eventually(flowing, "the publisher's packets at A")


async def viewing_at_b(
    a: Node, b: Node, sender: Sender, viewer: Viewer, kind: str
) -> dict[str, Any]:
    """Alice publishes at A, A pipes to B, Bob at B receives ``kind``; B's pipe offer."""
    await published(a, sender)
    offer: dict[str, Any] = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
    await pipe(a, offer)
    await viewer.subscribe(b)
    await until(lambda: viewer.frames[kind] >= 10, within=30, what=f"{kind} at B")
    return offer


async def pipe(a: Node, offer: dict[str, Any]) -> None:
    for source in ("camera", "microphone"):
        await a.call("pipe_to", participant="alice", source=source, offer=offer)


async def test_a_viewer_on_b_decodes_the_publisher_at_a(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender, viewer = Sender("alice"), Viewer("bob")
    try:
        await published(a, sender)
        await viewer.subscribe(b)  # before the pipe: B offers the tracks when they appear
        offer = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
        await pipe(a, offer)
        await until(
            lambda: viewer.frames["video"] >= 30 and viewer.frames["audio"] >= 50,
            within=30,
            what="video and audio decoded at B",
        )
        stats = await b.call("pipe_stats", pipe_id=offer["pipe_id"])
        assert stats["stats"]["foreign"] == stats["stats"]["forged"] == 0
        assert [c[:3] for c in stats["changes"]] == [
            ["alice", "camera", True],
            ["alice", "microphone", True],
        ]
        remote = (await b.call("track_stats", participant="alice", source="camera"))["stats"]
        assert remote["subscribers"] == 1
        assert remote["packets_forwarded"] > 0

        # A stops piping the camera: it ends at B, the microphone goes on.
        await a.call("close_pipe", pipe_id=offer["pipe_id"], participant="alice", source="camera")

        async def ended() -> bool:
            changes = (await b.call("pipe_stats", pipe_id=offer["pipe_id"]))["changes"]
            return ["alice", "camera", False] in changes

        await eventually(ended, "the camera ended at B")
        audio = viewer.packets(MICROPHONE)
        await until(lambda: viewer.packets(MICROPHONE) > audio + 20, what="audio after")

        # A closes the whole pipe: B's last remote track ends too.
        await a.call("close_pipe", pipe_id=offer["pipe_id"])

        async def all_ended() -> bool:
            changes = (await b.call("pipe_stats", pipe_id=offer["pipe_id"]))["changes"]
            return ["alice", "microphone", False] in changes

        await eventually(all_ended, "the microphone ended at B")
    finally:
        await viewer.close()
        await sender.close()


async def test_a_publisher_leaving_a_ends_its_tracks_at_b(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender, viewer = Sender("alice"), Viewer("bob")
    try:
        offer = await viewing_at_b(a, b, sender, viewer, "audio")
        await a.call("leave", participant="alice")

        async def ended() -> bool:
            reply = await b.call("pipe_stats", pipe_id=offer["pipe_id"])
            gone = {(p, s) for p, s, present in reply["changes"] if not present}
            return gone == {CAMERA, MICROPHONE} and reply["stats"]["streams"] == 0

        await eventually(ended, "both tracks ended at B")
        counted = {key: viewer.packets(key) for key in (CAMERA, MICROPHONE)}
        await until(lambda: viewer.wire.offered[-1] == [], what="B's offer without them")
        assert {key: viewer.packets(key) for key in (CAMERA, MICROPHONE)} == counted
    finally:
        await viewer.close()
        await sender.close()


async def test_forged_datagrams_reach_no_viewer(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender, viewer = Sender("alice"), Viewer("bob")
    loop = asyncio.get_running_loop()
    try:
        await published(a, sender)
        offer_json = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
        offer = PipeOffer.from_json(offer_json)
        relay = Relay(offer.address, loss=0.0)
        relayed = await relay.start()
        # A sends through the relay; B latches the relay's address as A's.
        await pipe(a, {**offer_json, "host": relayed[0], "port": relayed[1]})
        await viewer.subscribe(b)
        await until(lambda: viewer.frames["video"] >= 10, within=30, what="video at B")

        forger, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        rtp = bytes([0x80, 0x60, 0, 1]) + bytes(4) + (1).to_bytes(4, "big") + MARKER * 20
        wrong_key = seal(os.urandom(32), MEDIA, 0, 10**9, rtp)
        right_key = seal(offer.key, MEDIA, 0, 10**9, rtp)
        for _ in range(50):
            forger.sendto(b"", offer.address)
            forger.sendto(os.urandom(200), offer.address)
            forger.sendto(wrong_key, offer.address)
            forger.sendto(right_key, offer.address)  # the secret leaked, the address not
            relay.inject(wrong_key)  # from A's latched address, without the secret
        relay.replay(20)  # A's own datagrams again, from A's address
        before = viewer.frames["video"]

        stats: dict[str, int] = {}

        async def counted() -> bool:
            stats.update((await b.call("pipe_stats", pipe_id=offer.pipe_id))["stats"])
            return stats["forged"] >= 50 and stats["replayed"] >= 20 and stats["foreign"] >= 150

        await eventually(counted, "B's guard counting what it dropped")
        await until(lambda: viewer.frames["video"] > before + 10, what="video goes on")
        assert viewer.wire.marked == 0
        forger.close()
        relay.close()
    finally:
        await viewer.close()
        await sender.close()


async def test_feedback_from_b_reaches_the_publisher(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender, viewer = Sender("alice"), Viewer("bob")
    try:
        await viewing_at_b(a, b, sender, viewer, "video")
        ssrc, sequence = viewer.last_sequence[CAMERA]
        receiver = viewer.receivers[CAMERA]

        # A keyframe request: B's viewer -> B -> the pipe -> A -> the publisher.
        plis = sender.plis
        await receiver._send_rtcp_pli(ssrc)
        await until(lambda: sender.plis > plis, what="the PLI at the publisher")

        # A NACK is answered at B, from B's cache, in the viewer's own numbering.
        def resent() -> Any:
            return b.call("track_stats", participant="alice", source="camera")

        before = (await resent())["stats"]["packets_retransmitted"]
        await receiver._send_rtcp_nack(ssrc, [(sequence - 3) & 0xFFFF, (sequence - 2) & 0xFFFF])

        async def answered() -> bool:
            return bool((await resent())["stats"]["packets_retransmitted"] >= before + 2)

        await eventually(answered, "B resending from its cache")
    finally:
        await viewer.close()
        await sender.close()


async def test_losses_between_nodes_are_repaired_from_a(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sender, viewer = Sender("alice"), Viewer("bob")
    try:
        await published(a, sender)
        offer_json = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
        offer = PipeOffer.from_json(offer_json)
        relay = Relay(offer.address, loss=0.03)
        relayed = await relay.start()
        a_offer = {**offer_json, "host": relayed[0], "port": relayed[1]}
        await pipe(a, a_offer)
        await viewer.subscribe(b)
        await until(lambda: viewer.frames["video"] >= 60, within=40, what="video at B")
        remote = (await b.call("track_stats", participant="alice", source="camera"))["stats"]
        piped = (await a.call("pipe_stats", pipe_id=offer.pipe_id))["stats"]
        assert relay.dropped > 0
        assert remote["nacks_sent"] > 0
        assert piped["retransmitted"] > 0
        assert remote["packets_repaired"] > 0
        relay.close()
    finally:
        await viewer.close()
        await sender.close()
