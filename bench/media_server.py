"""Server process of bench/media_forwarding.py: meetwarden's MediaPlane or aiortc's MediaRelay.

Runs alone in its process so that its CPU time (os.times, all threads) is the
server's and nothing else. Controlled by JSON lines over a Unix socket:
publish, subscribe, answer, cpu_start, cpu_stop, quit, and stats (a published
track's counters, meetwarden only), bandwidth (a subscriber's estimate and pauses).
``--no-loss-repair`` is the server before it repaired publishers' losses,
``--no-bandwidth-control`` before it paused the video a subscriber's link cannot
take and derived publishers' REMB from their viewers, for bench/media_network.py.

    python bench/media_server.py --mode meetwarden --socket /tmp/mw.sock --loop uvloop
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import time
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay

from meetwarden.server.media import MediaPlane
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate, restrict_host_addresses

BITRATE = 500_000


class MeetwardenServer:
    """One meeting (a MediaRoom) on the process's MediaPlane; everyone is admitted.

    ``loss_repair`` False is the server before it repaired publishers' losses,
    ``bandwidth_control`` False before it controlled each subscriber's bandwidth
    (bench/media_network.py runs them side by side)."""

    def __init__(self, loss_repair: bool = True, bandwidth_control: bool = True) -> None:
        self.plane = MediaPlane(loss_repair=loss_repair, bandwidth_control=bandwidth_control)
        self.room = self.plane.room("bench", on_observation=lambda observation: None)

    def stats(self, participant: str, source: str) -> dict[str, Any]:
        stats = self.room.track_stats(participant, source)
        return {} if stats is None else dataclasses.asdict(stats)

    def bandwidth(self, participant: str) -> dict[str, Any]:
        found = self.room.subscriber_bandwidth(participant)
        if found is None:
            return {}
        return {
            "pauses": found.pauses,
            "resumes": found.resumes,
            "available": found.available_bitrate(),
            "decreases": found.estimate.decreases,
        }

    async def publish(self, participant: str, sdp: str, sources: dict[str, str]) -> str:
        self.room.admit(participant)
        for source in sources.values():
            self.room.set_gate(participant, source, True)
        return await self.room.publish(participant, sdp, sources)

    async def subscribe(self, participant: str) -> str:
        self.room.admit(participant)
        return (await self.room.subscribe(participant)).sdp

    async def answer(self, participant: str, sdp: str) -> None:
        await self.room.subscriber_answer(participant, sdp)

    async def close(self) -> None:
        await self.plane.close()


class RelayServer:
    """The baseline: decode once, re-encode per subscriber (MediaRelay, buffered=False)."""

    def __init__(self) -> None:
        restrict_host_addresses(["127.0.0.1"])
        self.relay = MediaRelay()
        self.tracks: list[MediaStreamTrack] = []
        self.pcs: dict[str, RTCPeerConnection] = {}

    def _pc(self, participant: str) -> RTCPeerConnection:
        pc = self.pcs[participant] = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        return pc

    async def publish(self, participant: str, sdp: str, sources: dict[str, str]) -> str:
        pc = self._pc(participant)
        pc.on("track", self.tracks.append)
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def subscribe(self, participant: str) -> str:
        pc = self._pc(participant)
        for track in self.tracks:
            pc.addTrack(self.relay.subscribe(track, buffered=False))
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    async def answer(self, participant: str, sdp: str) -> None:
        await self.pcs[participant].setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    def stats(self, participant: str, source: str) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        for pc in self.pcs.values():
            await pc.close()


async def serve(
    mode: str, path: str, loss_repair: bool = True, bandwidth_control: bool = True
) -> None:
    pin_vp8_bitrate(BITRATE)  # the relay's encoders send what the publisher sends
    server: Any = (
        MeetwardenServer(loss_repair, bandwidth_control) if mode == "meetwarden" else RelayServer()
    )
    done = asyncio.Event()
    cpu_start: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            reply: dict[str, Any] = {}
            if op == "publish":
                reply["sdp"] = await server.publish(
                    request["participant"], request["sdp"], request["sources"]
                )
            elif op == "subscribe":
                reply["sdp"] = await server.subscribe(request["participant"])
            elif op == "answer":
                await server.answer(request["participant"], request["sdp"])
            elif op == "stats":
                reply["stats"] = server.stats(request["participant"], request["source"])
            elif op == "bandwidth":
                reply["bandwidth"] = server.bandwidth(request["participant"])
            elif op == "cpu_start":
                times = os.times()
                cpu_start[:] = [times.user + times.system, time.monotonic()]
            elif op == "cpu_stop":
                times = os.times()
                reply["cpu_seconds"] = times.user + times.system - cpu_start[0]
                reply["wall_seconds"] = time.monotonic() - cpu_start[1]
            elif op == "quit":
                done.set()
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
            if op == "quit":
                break
        writer.close()

    listener = await asyncio.start_unix_server(handle, path)
    print("ready", flush=True)
    await done.wait()
    listener.close()
    await asyncio.wait_for(server.close(), 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["meetwarden", "relay"], required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument(
        "--no-loss-repair",
        action="store_true",
        help="meetwarden as it was before it repaired publishers' losses",
    )
    parser.add_argument(
        "--no-bandwidth-control",
        action="store_true",
        help="meetwarden as it was before it controlled each subscriber's bandwidth",
    )
    args = parser.parse_args()
    serving = serve(args.mode, args.socket, not args.no_loss_repair, not args.no_bandwidth_control)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serving)
    else:
        asyncio.run(serving)


if __name__ == "__main__":
    main()
