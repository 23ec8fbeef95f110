"""One media node of a cascade, in its own process: a MediaPlane with one meeting.

Driven by JSON lines over a Unix socket, as bench/media_server.py is: publish,
subscribe, answer, next_offer (a renegotiated subscriber offer), leave, set_gate,
open_pipe, pipe_to, close_pipe, pipe_stats, track_stats (local or piped-in),
viewer_stats, cpu_start / cpu_stop, quit. Every participant is admitted. Used
by tests/media/test_cascade.py, tests/enforcement/test_cascade_gate.py and
bench/media_cascade.py (two of these, A and B, on loopback).

    python tests/support/cascade_node.py --socket /tmp/a.sock
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import time
from typing import Any

from meetwarden.server.media import MediaPlane
from meetwarden.server.media.pipe_wire import PipeOffer
from meetwarden.server.media.track_stats import track_stats_of


class Node:
    """The node's plane and its one room; renegotiated offers wait in a queue."""

    def __init__(self, keyframe_interval: float) -> None:
        self.plane = MediaPlane(keyframe_interval=keyframe_interval)
        self.offers: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.room = self.plane.room(
            "cascade",
            on_observation=lambda observation: None,
            on_subscriber_offer=self._offered,
        )
        self.changes: list[tuple[str, str, bool]] = []

    def _queue(self, participant: str) -> asyncio.Queue[dict[str, Any]]:
        return self.offers.setdefault(participant, asyncio.Queue())

    def _offered(self, participant: str, offer: Any) -> None:
        self._queue(participant).put_nowait(_offer_json(offer))

    async def call(self, op: str, request: dict[str, Any]) -> dict[str, Any]:
        room = self.room
        if op == "publish":
            participant = request["participant"]
            room.admit(participant)
            for source in request["sources"].values():
                room.set_gate(participant, source, True)
            return {"sdp": await room.publish(participant, request["sdp"], request["sources"])}
        if op == "subscribe":
            room.admit(request["participant"])
            return _offer_json(await room.subscribe(request["participant"]))
        if op == "answer":
            await room.subscriber_answer(request["participant"], request["sdp"])
            return {}
        if op == "next_offer":
            queue = self._queue(request["participant"])
            return await asyncio.wait_for(queue.get(), request.get("within", 20))
        if op == "leave":
            room.close_participant(request["participant"])
            return {}
        if op == "set_gate":
            room.set_gate(request["participant"], request["source"], request["open"])
            return {"at": time.monotonic()}
        if op == "open_pipe":
            offer = await room.open_pipe(
                request["peer_host"], on_change=lambda p, s, on: self.changes.append((p, s, on))
            )
            return {"offer": offer.to_json()}
        if op == "pipe_to":
            offer = PipeOffer.from_json(request["offer"])
            await room.pipe_to(request["participant"], request["source"], offer)
            return {}
        if op == "close_pipe":
            room.close_pipe(request["pipe_id"], request.get("participant"), request.get("source"))
            return {}
        if op == "pipe_stats":
            return {"stats": room.pipe_stats(request["pipe_id"]), "changes": self.changes}
        if op == "track_stats":
            track = room.remote_track(request["participant"], request["source"])
            if track is None:
                stats = room.track_stats(request["participant"], request["source"])
                return {"stats": None if stats is None else dataclasses.asdict(stats)}
            return {"stats": dataclasses.asdict(track_stats_of(track))}
        if op == "forwarded":
            return {"packets": self.forwarded()}
        raise ValueError(f"unknown op {op!r}")

    def forwarded(self) -> int:
        """Packets sent to this node's viewers so far (local tracks and piped-in)."""
        total = 0
        for participant in self.room._participants.values():
            subscriber = participant.subscriber
            if subscriber is not None:
                total += sum(down.packets for _, down in subscriber.downs())
        return total


def _offer_json(offer: Any) -> dict[str, Any]:
    return {
        "sdp": offer.sdp,
        "tracks": [[t.mid, t.participant_id, t.source, t.kind] for t in offer.tracks],
    }


async def serve(path: str, keyframe_interval: float) -> None:
    node = Node(keyframe_interval)
    done = asyncio.Event()
    cpu_start: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_one(reader, writer)
        except (asyncio.CancelledError, ConnectionError):
            pass  # the node stops, or the test closed its side
        finally:
            writer.close()

    async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            reply: dict[str, Any]
            try:
                if op == "quit":
                    reply = {}
                    done.set()
                elif op == "cpu_start":
                    times = os.times()
                    cpu_start[:] = [times.user + times.system, time.monotonic()]
                    reply = {"forwarded": node.forwarded()}
                elif op == "cpu_stop":
                    times = os.times()
                    reply = {
                        "cpu_seconds": times.user + times.system - cpu_start[0],
                        "wall_seconds": time.monotonic() - cpu_start[1],
                        "forwarded": node.forwarded(),
                    }
                else:
                    reply = await node.call(op, request)
            except Exception as error:  # the test reads it; the node stays up
                reply = {"error": f"{type(error).__name__}: {error}"}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
            if op == "quit":
                break

    listener = await asyncio.start_unix_server(handle, path)
    print("ready", flush=True)
    await done.wait()
    listener.close()
    await asyncio.wait_for(node.plane.close(), 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--keyframe-interval", type=float, default=0.5)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    serving = serve(args.socket, args.keyframe_interval)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serving)
    else:
        asyncio.run(serving)


if __name__ == "__main__":
    main()
