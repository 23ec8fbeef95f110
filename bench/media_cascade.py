"""Cascading between nodes: what a piped packet costs node B, and how fast a gate reaches it.

Two media nodes (tests/support/cascade_node.py), each in its own process, on
loopback. A publisher (its own process: 640x480@30 VP8 at 500 kbit/s and Opus)
publishes at A; N viewers subscribe at A and N at B, and A pipes both tracks to B.
The viewers count RTP at the wire without decoding (bench process).

1. CPU per forwarded packet, side by side in one window: A's CPU over every
   packet it sent (its N viewers' and the pipe's), and B's CPU over the packets
   its N viewers got through the pipe; the ratio B / A (target <= 1.0). CPU is read
   to the nanosecond from /proc/<pid>/task/*/schedstat.
2. Gate close to last packet: the camera's gate at A flips closed and open
   ``--flips`` times; for each close, the last camera packet that reached A's
   viewer and B's viewer after the instant A applied the close (one clock:
   CLOCK_MONOTONIC, shared by the processes), 0 if none did. Each close is sent
   as a camera packet reaches A's viewer, so that the rest of its frame may be in
   flight. p50 / p99 for both (target: p99 within 5 ms).

    python bench/media_cascade.py --viewers 4 --measure 10 --flips 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_clients import task_cpu_seconds
from support.cascade import Control, Node, Sender, Viewer

from meetwarden.client_sdk.media import loopback_only
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate

CAMERA = ("alice", "camera")
BITRATE = 500_000


async def publisher(socket: str) -> None:
    """The publisher's process: publish at A, then send until stdin closes."""
    loopback_only()
    pin_vp8_bitrate(BITRATE)
    control = Control("a", *await asyncio.open_unix_connection(socket))
    sender = Sender("alice", 640, 480)
    await sender.publish(control)  # type: ignore[arg-type]  # it has .call
    print("publishing", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await sender.close()


async def until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)  # polling the viewers' counters


async def cpu_per_packet(a: Node, b: Node, pipe_id: str, measure: float) -> dict[str, float]:
    async def sample() -> tuple[float, float, int, int, int]:
        fwd_a = (await a.call("forwarded"))["packets"]
        fwd_b = (await b.call("forwarded"))["packets"]
        piped = (await a.call("pipe_stats", pipe_id=pipe_id))["stats"]["packets"]
        return task_cpu_seconds(a.pid), task_cpu_seconds(b.pid), fwd_a, fwd_b, piped

    start = await sample()
    await asyncio.sleep(measure)  # the measurement window
    end = await sample()
    cpu_a, cpu_b = end[0] - start[0], end[1] - start[1]
    sent_a, fwd_b, piped = end[2] - start[2], end[3] - start[3], end[4] - start[4]
    per_a = cpu_a / (sent_a + piped)
    per_b = cpu_b / fwd_b
    return {
        "a_cpu": cpu_a / measure,
        "b_cpu": cpu_b / measure,
        "a_packets": sent_a,
        "a_piped": piped,
        "b_packets": fwd_b,
        "a_us_per_packet": 1e6 * per_a,
        "a_us_per_viewer_packet": 1e6 * cpu_a / sent_a,
        "b_us_per_packet": 1e6 * per_b,
        "ratio": per_b / per_a,
    }


def last_after(viewer: Viewer, instant: float, until_: float) -> float:
    """Milliseconds from ``instant`` to the last camera packet before ``until_`` (0: none)."""
    late = [at for at in viewer.arrivals.get(CAMERA, []) if instant < at <= until_]
    return 1000 * (max(late) - instant) if late else 0.0


async def gate_latency(a: Node, here: Viewer, there: Viewer, flips: int) -> dict[str, Any]:
    at_a: list[float] = []
    at_b: list[float] = []
    for _ in range(flips):
        seen = (here.packets(CAMERA), there.packets(CAMERA))
        await until(
            lambda seen=seen: (
                here.packets(CAMERA) > seen[0] + 20 and there.packets(CAMERA) > seen[1] + 20
            ),
            within=10,
            what="camera flowing to both viewers",
        )
        # Closed as a frame starts reaching A's viewer: the rest of it is in flight.
        count = here.packets(CAMERA)
        await until(lambda count=count: here.packets(CAMERA) > count, 5, "a camera packet")
        closed = (await a.call("set_gate", participant="alice", source="camera", open=False))["at"]
        await asyncio.sleep(1.0)  # the window: 30x the worst p99 seen, so a late packet is caught
        now = time.monotonic()
        at_a.append(last_after(here, closed, now))
        at_b.append(last_after(there, closed, now))
        await a.call("set_gate", participant="alice", source="camera", open=True)

    def summary(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "closes_with_packets_after": sum(1 for value in values if value > 0),
            "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max_ms": ordered[-1],
        }

    return {"flips": flips, "a_viewer": summary(at_a), "b_viewer": summary(at_b)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loopback_only()
    directory = Path(tempfile.mkdtemp(prefix="media-cascade-"))
    a = await Node(directory, "a").start()
    b = await Node(directory, "b").start()
    sending = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--publisher", a.socket,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    viewers_a = [Viewer(f"a-{i}", decode=False) for i in range(args.viewers)]
    viewers_b = [Viewer(f"b-{i}", decode=False) for i in range(args.viewers)]
    try:
        assert sending.stdout is not None
        await sending.stdout.readline()
        offer = (await b.call("open_pipe", peer_host="127.0.0.1"))["offer"]
        for source in ("camera", "microphone"):
            await a.call("pipe_to", participant="alice", source=source, offer=offer)
        for viewer in viewers_a:
            await viewer.subscribe(a)
        for viewer in viewers_b:
            await viewer.subscribe(b)
        everyone = viewers_a + viewers_b
        await until(lambda: all(v.packets(CAMERA) > 0 for v in everyone), 30, "every viewer")
        await asyncio.sleep(args.warmup)  # past the start's keyframes and probes
        cpu = await cpu_per_packet(a, b, offer["pipe_id"], args.measure)
        latency = await gate_latency(a, viewers_a[0], viewers_b[0], args.flips)
        return {"viewers_per_node": args.viewers, "cpu": cpu, "gate_close_to_last_packet": latency}
    finally:
        for viewer in viewers_a + viewers_b:
            await viewer.close()
        assert sending.stdin is not None
        sending.stdin.close()
        await asyncio.wait_for(sending.wait(), 30)
        await a.stop()
        await b.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=4, help="viewers at each node")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--measure", type=float, default=10.0)
    parser.add_argument("--flips", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="--measure 5 --flips 20")
    parser.add_argument("--publisher", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        asyncio.run(publisher(args.publisher))
        return
    if args.quick:
        args.measure, args.flips = 5.0, 20
    result = asyncio.run(run(args))
    cpu, latency = result["cpu"], result["gate_close_to_last_packet"]
    print(json.dumps(result, indent=2))
    print(
        f"CPU per forwarded packet, {args.viewers} viewers per node: "
        f"A {cpu['a_us_per_packet']:.1f} us (local viewers and the pipe), "
        f"B {cpu['b_us_per_packet']:.1f} us (piped in); "
        f"ratio B/A {cpu['ratio']:.2f} (target <= 1.0)"
    )
    for side, name in (("a_viewer", "A's local viewer"), ("b_viewer", "B's viewer")):
        figures = latency[side]
        print(
            f"gate close to last packet at {name}: p50 {figures['p50_ms']:.2f} ms, "
            f"p99 {figures['p99_ms']:.2f} ms, max {figures['max_ms']:.2f} ms "
            f"({latency['flips']} flips, {figures['closes_with_packets_after']} with packets "
            "after the close; target p99 <= 5 ms)"
        )


if __name__ == "__main__":
    main()
