"""Edge viewers: what a meeting's node (A) pays for viewers served by another node (B).

Two `meetwarden serve` nodes with ``--edge-after 1`` on a PostgreSQL and a Redis
started here. A publisher (an SDK bot: 320x240@30 VP8 and Opus) is at A. Phases,
alternated ``--rounds`` times: the publisher alone; N viewers who join through
A's link (local: A forwards to each); N viewers who join through B's link (edge
viewers: A pipes each track once to B, B forwards to them, and relays their
signalling to A's Room). In each
phase, once media flows to every viewer, A's and B's CPU over ``--measure``
seconds (read to the nanosecond from /proc/<pid>/task/*/schedstat).

Reported (medians of the rounds): A's CPU per second with the publisher alone,
with N local viewers (the baseline, measured in the same run) and with N edge
viewers, and B's with the N edge viewers; ``a_edge_over_a_local`` (below 1: the
cascade takes the forwarding off A) and ``b_edge_over_a_local`` (what B pays to
serve N viewers from the pipe, beside what A pays to serve them itself).
The viewers are SDK clients in this process (they decode), so the machine is busy:
compare the ratios, not the absolute figures.

    python bench/edge_viewers.py --viewers 6 --measure 10 --rounds 2
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
from support.cluster import running_cluster
from support.counting import HonestCounter
from support.postgres import start_postgres, stop_postgres
from support.server import RunningServer

from meetwarden.client_sdk import HostAPI, MeetingClient
from meetwarden.client_sdk.media import loopback_only
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

POLICY: dict[str, Any] = {
    "entry": {"waiting_room": {"enabled": False}},
    "audio": {"mute_on_entry": False},
}


NAMES = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kai", "Lin")
"""Each viewer's last name: the default policy wants a full name, and names by number
(``Viewer 3``) are not names."""


def pid_of(node: RunningServer) -> int:
    assert node.process is not None
    return node.process.pid


async def phase(
    link: str, viewers: int, measure: float, publisher: str, a: int, b: int
) -> dict[str, float]:
    """N viewers join at ``link`` and receive; A's and B's CPU per second once they do."""
    clients: list[HonestCounter] = []
    try:
        for number in range(viewers):
            name = f"Viewer {NAMES[number % len(NAMES)]}{number // len(NAMES) or ''}"
            client = await HonestCounter.connect(link, name=name)
            clients.append(client)
            await client.wait_admitted()
            await client.media.subscribe()
        for client in clients:
            await client.wire.flows(publisher, "camera", packets=30, within=60)
        await asyncio.sleep(1.0)  # joins and first offers settled: the steady state is measured
        cpu_a, cpu_b, start = task_cpu_seconds(a), task_cpu_seconds(b), time.monotonic()
        before = [client.wire.of(publisher, "camera") for client in clients]
        await asyncio.sleep(measure)  # the window is the measurement
        elapsed = time.monotonic() - start
        received = [
            client.wire.of(publisher, "camera") - was
            for client, was in zip(clients, before, strict=True)
        ]
        return {
            "a_cpu_per_s": (task_cpu_seconds(a) - cpu_a) / elapsed,
            "b_cpu_per_s": (task_cpu_seconds(b) - cpu_b) / elapsed,
            "camera_packets_per_viewer_per_s": statistics.mean(received or [0]) / elapsed,
        }
    finally:
        for client in clients:
            await client.close()


async def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    loopback_only()
    postgres = start_postgres()
    try:
        with running_cluster(directory, postgres, extra_args=["--edge-after", "1"]) as cluster:
            first = cluster.nodes[0]
            created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
            host = await MeetingClient.connect(
                created.join_url, name="Alice Chen", host_token=created.host_token
            )
            try:
                holder = cluster.node(host.server)
                edge = cluster.other(holder.url)
                await host.media.publish(
                    camera=SyntheticVideoTrack(320, 240, 30), microphone=SyntheticAudioTrack()
                )
                assert host.participant_id is not None
                a, b = pid_of(holder), pid_of(edge)
                rounds: list[dict[str, dict[str, float]]] = []
                for number in range(args.rounds):
                    alone = await phase(
                        f"{holder.url}/m/{created.meeting_id}",
                        0, args.measure, host.participant_id, a, b,
                    )  # fmt: skip
                    local = await phase(
                        f"{holder.url}/m/{created.meeting_id}",
                        args.viewers, args.measure, host.participant_id, a, b,
                    )  # fmt: skip
                    at_edge = await phase(
                        f"{edge.url}/m/{created.meeting_id}",
                        args.viewers, args.measure, host.participant_id, a, b,
                    )  # fmt: skip
                    rounds.append({"none": alone, "local": local, "edge": at_edge})
                    print(f"round {number + 1}: {json.dumps(rounds[-1])}", file=sys.stderr)
            finally:
                await host.close()
    finally:
        stop_postgres(postgres)

    def median(where: str, what: str) -> float:
        return statistics.median(r[where][what] for r in rounds)

    a_local, a_edge = median("local", "a_cpu_per_s"), median("edge", "a_cpu_per_s")
    b_edge = median("edge", "b_cpu_per_s")
    return {
        "viewers": args.viewers,
        "rounds": rounds,
        "a_ms_per_s_publisher_alone": round(median("none", "a_cpu_per_s") * 1000, 1),
        "a_ms_per_s_local_viewers": round(a_local * 1000, 1),
        "a_ms_per_s_edge_viewers": round(a_edge * 1000, 1),
        "b_ms_per_s_edge_viewers": round(b_edge * 1000, 1),
        "a_edge_over_a_local": round(a_edge / a_local, 2),
        "b_edge_over_a_local": round(b_edge / a_local, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=6)
    parser.add_argument("--measure", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as directory:
        report = asyncio.run(run(args, Path(directory)))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
