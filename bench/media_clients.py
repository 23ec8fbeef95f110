"""Client process of bench/media_forwarding.py: one publisher and N subscribers.

The publisher sends 640x480@30 VP8 at a fixed 500 kbit/s plus Opus (synthetic,
frame number painted in the picture). Subscriber 0 decodes for real and
measures capture-to-decoded latency; subscribers 1..N-1 count RTP frames
(marker bits) without decoding, so that the client process stays light.
``--direct`` connects the publisher straight to one subscriber (no server):
the latency reference. Prints one JSON object.

    python bench/media_clients.py --socket /tmp/mw.sock --subscribers 8 --warmup 3 --measure 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from meetwarden.client_sdk.synthetic import (
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    read_frame_number,
)
from meetwarden.server.media.aiortc_seam import (
    intercept_publisher_media,
    pin_vp8_bitrate,
    primary_transport,
    restrict_host_addresses,
)

BITRATE = 500_000


class Control:
    """JSON lines to bench/media_server.py."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        self.writer.write(json.dumps({"op": op, **fields}).encode() + b"\n")
        await self.writer.drain()
        reply: dict[str, Any] = json.loads(await self.reader.readline())
        return reply


class Counter:
    """Counts a subscriber's RTP packets and video frames without decoding anything."""

    def __init__(self, video_payload_type: int) -> None:
        self.video_payload_type = video_payload_type
        self.packets = 0
        self.frames = 0

    def on_rtp(self, data: bytes) -> None:
        self.packets += 1
        if data[1] == 0x80 | self.video_payload_type:
            self.frames += 1


class Decoding:
    """Subscriber 0: decodes video, measures latency against the publisher's capture times."""

    def __init__(self, camera: SyntheticVideoTrack) -> None:
        self.camera = camera
        self.frames = 0
        self.latencies: list[tuple[float, float]] = []  # (when, seconds)
        self.sizes: set[tuple[int, int]] = set()

    async def consume(self, track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if track.kind != "video":
                    continue
                self.frames += 1
                self.sizes.add((frame.width, frame.height))
                captured = self.camera.capture_times.get(read_frame_number(frame))
                if captured is not None:
                    self.latencies.append((now, now - captured))
        except MediaStreamError:
            pass


def task_cpu_seconds(pid: int) -> float:
    """CPU time of every live thread of ``pid`` so far, to the nanosecond (the first field
    of each thread's schedstat); the server's own os.times() counts 10 ms ticks, too
    coarse for a 10 % comparison of meetwarden's few milliseconds per subscriber. A
    thread that ends inside the window takes its time with it (aiortc's executor
    threads live as long as the process)."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread just ended
            total += int(stat.read_text().split()[0])
    return total / 1e9


def _new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def _until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)  # polling aiortc's state, which raises no event here


async def run(args: argparse.Namespace) -> dict[str, Any]:
    restrict_host_addresses(["127.0.0.1"])
    pin_vp8_bitrate(BITRATE)
    camera = SyntheticVideoTrack(640, 480, 30)
    publisher = _new_pc()
    video = publisher.addTransceiver(camera, direction="sendonly")
    audio = publisher.addTransceiver(SyntheticAudioTrack(), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    decoding = Decoding(camera)
    tasks: list[asyncio.Task[None]] = []
    counters: list[Counter] = []
    pcs = [publisher]

    def on_track(track: Any) -> None:
        tasks.append(asyncio.create_task(decoding.consume(track)))

    control = None
    if args.direct:
        receiver = _new_pc()
        pcs.append(receiver)
        receiver.on("track", on_track)
        await receiver.setRemoteDescription(publisher.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await publisher.setRemoteDescription(receiver.localDescription)
    else:
        control = Control(*await asyncio.open_unix_connection(args.socket))
        sources = {video.mid: "camera", audio.mid: "microphone"}
        reply = await control.call(
            "publish", participant="publisher", sdp=publisher.localDescription.sdp, sources=sources
        )
        await publisher.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        for index in range(args.subscribers):
            name = f"subscriber-{index}"
            pc = _new_pc()
            pcs.append(pc)
            offer = await control.call("subscribe", participant=name)
            await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            if index == 0:
                pc.on("track", on_track)
                for transceiver in pc.getTransceivers():
                    if transceiver.receiver.track is not None:
                        on_track(transceiver.receiver.track)
            else:
                found = re.search(r"a=rtpmap:(\d+) VP8/90000", pc.localDescription.sdp)
                assert found is not None
                counter = Counter(int(found.group(1)))
                counters.append(counter)
                dtls = primary_transport(pc)
                assert dtls is not None
                intercept_publisher_media(dtls, counter.on_rtp, lambda *_: None)
            await control.call("answer", participant=name, sdp=pc.localDescription.sdp)

    await _until(
        lambda: decoding.frames > 0 and all(c.frames > 0 for c in counters),
        within=30,
        what="every subscriber receiving video",
    )
    await asyncio.sleep(args.warmup)
    client_start = os.times()
    if control is not None:
        await control.call("cpu_start")
    precise_start = task_cpu_seconds(args.server_pid) if args.server_pid else 0.0
    started = time.monotonic()
    decoded_start = decoding.frames
    counted_start = [(c.frames, c.packets) for c in counters]
    await asyncio.sleep(args.measure)
    window = time.monotonic() - started
    precise = task_cpu_seconds(args.server_pid) - precise_start if args.server_pid else None
    server: dict[str, Any] = await control.call("cpu_stop") if control is not None else {}
    client_end = os.times()
    fps = [(decoding.frames - decoded_start) / window]
    fps += [(c.frames - f0) / window for c, (f0, _) in zip(counters, counted_start, strict=True)]
    packet_rates = [
        (c.packets - p0) / window for c, (_, p0) in zip(counters, counted_start, strict=True)
    ]
    latencies = [seconds for when, seconds in decoding.latencies if when >= started]
    result = {
        "subscribers": args.subscribers,
        "server_cpu": server.get("cpu_seconds", 0.0) / server.get("wall_seconds", window),
        "server_cpu_precise": None if precise is None else precise / window,
        "client_cpu": (
            client_end.user + client_end.system - client_start.user - client_start.system
        )
        / window,
        "fps": fps,
        "packets_per_subscriber": statistics.mean(packet_rates) if packet_rates else None,
        "latency_ms": sorted(1000 * s for s in latencies),
        "sizes": sorted(decoding.sizes),
    }
    for task in tasks:
        task.cancel()
    if control is not None:
        await control.call("quit")
    for pc in pcs:
        await pc.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket")
    parser.add_argument("--subscribers", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--measure", type=float, default=10.0)
    parser.add_argument("--direct", action="store_true")
    parser.add_argument("--server-pid", type=int, help="also read the server's CPU from /proc")
    args = parser.parse_args()
    result = asyncio.run(asyncio.wait_for(run(args), 60 + args.warmup + args.measure))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
