"""Load across nodes: many SDK bots on a cluster, beside a one-node baseline in the same run.

Bots are the Python SDK's ``MeetingClient`` (bench/cluster_bots.py), many per
process on one event loop, in ``--bot-processes`` processes. ``--meetings``
meetings of ``--size`` people each (a host and its guests) fill through a
waiting room, the host letting guests in (``--admit all``: everyone waiting
in one request; ``--admit each``: one by one). Joins start at ``--rate`` a
second in all, round robin over the meetings (every host first), each through
the link of a node taken in turn, so that many joins reach a node that does
not hold the meeting and are sent on (``moved``, followed by the SDK).

Everyone then stays for ``--hold`` seconds, while each host mutes one guest
after another every ``--mute-every`` seconds and the guest unmutes itself
again. Reported for each set of servers, side by side, with the ratio
cluster / baseline:

- participants held: joined and still admitted at the end of the hold;
- join latency, p50 / p95 / max: connect to ``admitted`` (through the
  waiting room, so it includes the host's admission);
- enforcement latency, p50 / p95 / p99: a host sends ``mute`` until the muted
  participant's SDK reads that it is muted, the decision reaching the person
  it binds. This is signalling latency; the media gate itself (the last
  packet forwarded after it closes) is measured by bench/media_enforcement.py;
- server CPU seconds (joining; holding) and resident memory, per participant,
  summed over the server processes and their children (/proc), and the CPU
  of the PostgreSQL and Redis a cluster uses, apart;
- the bots' own CPU.

By default the run starts what it loads, one after the other: the baseline,
one `meetwarden serve --workers 1` on SQLite in a temporary directory, then
``--nodes`` nodes on a PostgreSQL and a Redis started for them (as the tests
do: tests/support/). All the bots come from 127.0.0.1, so the servers started
here get MEETWARDEN_MAX_SOCKETS_PER_ADDRESS raised, and an operator API key.
``--servers`` loads servers already running instead (API key from
``--api-key`` or MEETWARDEN_API_KEY; ``--baseline-server`` adds a baseline);
their CPU and memory are read when they run on this machine.

    python bench/cluster_load.py                     # 50 meetings of 8, 2 nodes (~4 min)
    python bench/cluster_load.py --quick             # 8 meetings of 5, short hold (< 2 min)
    python bench/cluster_load.py --nodes 3 --meetings 100 --size 10 --json out.json
    python bench/cluster_load.py --servers http://10.0.0.5:8000 http://10.0.0.6:8000
    python bench/cluster_load.py --meetings 100 --size 10 --rate 25 --stop-nodes 8

``--stop-nodes SECONDS`` stops every server process (SIGSTOP) that long at a third of
the hold, and reports how many were in then, the fewest in afterwards and the time from
SIGCONT until everyone is in again (bench/cluster_stop.py): a cluster's reconnect storm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import queue
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from cluster_bots import MeetingPlan, Signals, run_bots
from cluster_servers import Target, Usage, baseline, cluster, given, usage
from cluster_stop import NodeStop
from tqdm import tqdm

from meetwarden.client_sdk import HostAPI

POLICY = {
    "entry": {
        "max_participants": 1000,
        # Every bot comes from one address: the waiting room's share per network is lifted.
        "waiting_room": {"enabled": True, "max_share_per_source": 100},
        "reconnect_seconds": 300,
    },
    "audio": {"mute_on_entry": False, "unmute": "self"},
}


def plan(target: Target, arguments: argparse.Namespace) -> list[MeetingPlan]:
    """Creates the meetings (each through a node in turn) and when each join starts."""

    async def create() -> list[Any]:
        return [
            await HostAPI.create_meeting(
                target.urls[number % len(target.urls)], POLICY, api_key=target.api_key
            )
            for number in range(arguments.meetings)
        ]

    created = asyncio.run(create())
    nodes, meetings = target.urls, arguments.meetings
    return [
        MeetingPlan(
            meeting.meeting_id,
            meeting.host_token,
            [
                f"{nodes[(m + person) % len(nodes)]}/m/{meeting.meeting_id}"
                for person in range(arguments.size)
            ],
            [(person * meetings + m) / arguments.rate for person in range(arguments.size)],
        )
        for m, meeting in enumerate(created)
    ]


def run(target: Target, arguments: argparse.Namespace) -> dict[str, Any]:
    """One phase: the bots join ``target``, hold, and report; the servers' cost."""
    plans = plan(target, arguments)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    signals = Signals(context.Value("d", 0.0), context.Event(), context.Event(), context.Event())
    settings = {"admit": arguments.admit, "mute_every": arguments.mute_every}
    processes = [
        context.Process(
            target=run_bots,
            args=(plans[share :: arguments.bot_processes], settings, messages, signals),
        )
        for share in range(arguments.bot_processes)
    ]
    for process in processes:
        process.start()
    _wait(messages, "up", len(processes))
    total = arguments.meetings * arguments.size
    before, services_before = usage(target.servers), usage(target.services)
    signals.begin.value = time.monotonic() + 0.2
    signals.go.set()
    counts = {"joined": 0, "failed": 0, "ready": 0, "muted": 0}
    mutes: list[float] = []
    with _bar(total, f"{target.name}: joining", "joins") as bar:
        while counts["ready"] < len(processes):
            kind, *rest = messages.get()
            counts[kind] = counts.get(kind, 0) + 1
            if kind in ("joined", "failed"):
                bar.update()
                bar.set_postfix(joined=counts["joined"], failed=counts["failed"], refresh=False)
    joined = usage(target.servers)
    joining_seconds = time.monotonic() - signals.begin.value
    signals.holding.set()
    held_from = time.monotonic()
    shown = 0.0
    stop = NodeStop(target.servers, arguments.stop_nodes, held_from + arguments.hold / 3)
    with _bar(arguments.hold, f"{target.name}: holding", "s") as bar, _released(stop):
        while (left := held_from + arguments.hold - time.monotonic()) > 0:
            if arguments.stop_nodes:
                stop.tick(time.monotonic())
            try:
                kind, *rest = messages.get(timeout=min(left, 0.25))
            except queue.Empty:
                pass
            else:
                if kind == "muted":
                    mutes.append(rest[0])
                elif kind == "in":
                    stop.heard(*rest)
            if time.monotonic() - shown >= 0.25:
                shown = time.monotonic()
                bar.n = min(arguments.hold, round(time.monotonic() - held_from, 1))
                if mutes:
                    p50 = _ms(_quantile(mutes, 50))
                    bar.set_postfix(mutes=len(mutes), p50_ms=p50, refresh=False)
                bar.refresh()
        bar.n = arguments.hold
    end, services_end = usage(target.servers), usage(target.services)
    signals.stop.set()
    results = [rest[0] for kind, *rest in _wait(messages, "result", len(processes))]
    for process in processes:
        process.join(timeout=60)
    figures = summary(
        target, results, [before, joined, end], [services_before, services_end], joining_seconds
    )
    return figures | (stop.figures() if arguments.stop_nodes else {})


@contextmanager
def _released(stop: NodeStop) -> Iterator[None]:
    """Stopped servers go on whatever ends the hold (an error, Ctrl-C)."""
    try:
        yield
    finally:
        stop.release()


def _wait(messages: Any, kind: str, count: int) -> list[tuple[Any, ...]]:
    """The next ``count`` messages of ``kind`` (others, late samples say, are dropped)."""
    found: list[tuple[Any, ...]] = []
    while len(found) < count:
        message = messages.get(timeout=600)
        if message[0] == kind:
            found.append(message)
    return found


def _bar(total: float, description: str, unit: str) -> tqdm[Any]:
    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True)


def _quantile(values: list[float], percent: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(
    target: Target,
    results: list[dict[str, Any]],
    servers: list[Usage | None],
    services: list[Usage | None],
    joining_seconds: float,
) -> dict[str, Any]:
    joins = [s for result in results for s in result["join_seconds"]]
    mutes = [s for result in results for s in result["mute_seconds"]]
    joined = sum(result["joined"] for result in results)
    held = sum(result["held"] for result in results)
    merged: dict[str, dict[str, int]] = {
        "failed": {},
        "lost": {},
        "mute_failures": {},
        "admit_failures": {},
    }
    for result in results:
        for key, counts in merged.items():
            for reason, count in result[key].items():
                counts[reason] = counts.get(reason, 0) + count
    figures: dict[str, Any] = {
        "servers": target.urls,
        "joined": joined,
        "held": held,
        "moved": sum(result["moved"] for result in results),
        **merged,
        "joining_seconds": round(joining_seconds, 2),
        "join_ms": {p: _ms(_quantile(joins, p)) for p in (50, 95)} | {"max": _ms(max(joins))},
        "mute_ms": {p: _ms(_quantile(mutes, p)) for p in (50, 95, 99)},
        "mute_samples": len(mutes),
        "bot_cpu_seconds": round(sum(result["bot_cpu_seconds"] for result in results), 2),
    }
    before, joined_usage, end = servers
    if before is not None and joined_usage is not None and end is not None:
        figures |= {
            "server_cpu_joining_seconds": round(joined_usage.cpu_seconds - before.cpu_seconds, 2),
            "server_cpu_holding_seconds": round(end.cpu_seconds - joined_usage.cpu_seconds, 2),
            "server_rss_mib_before": round(before.rss_mib, 1),
            "server_rss_mib_end": round(end.rss_mib, 1),
        }
    if services[0] is not None and services[1] is not None:
        figures["services_cpu_seconds"] = round(
            services[1].cpu_seconds - services[0].cpu_seconds, 2
        )
    return figures


def arguments_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meetings", type=int, default=50)
    parser.add_argument("--size", type=int, default=8, help="people per meeting, the host too")
    parser.add_argument("--rate", type=float, default=20.0, help="joins a second, in all")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds everyone stays")
    parser.add_argument("--mute-every", type=float, default=2.0, help="seconds, per meeting")
    parser.add_argument("--admit", choices=("all", "each"), default="all")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--bot-processes", type=int, default=2)
    parser.add_argument("--servers", nargs="+", metavar="URL", help="load these instead")
    parser.add_argument("--baseline-server", metavar="URL", help="with --servers: a baseline")
    parser.add_argument("--api-key", default=os.environ.get("MEETWARDEN_API_KEY"))
    parser.add_argument("--no-baseline", action="store_true", help="the cluster alone")
    parser.add_argument("--quick", action="store_true", help="8 meetings of 5, a 10 s hold")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--logs", type=Path, help="keep the logs of the servers started here")
    parser.add_argument(
        "--stop-nodes",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop every server process (SIGSTOP) this long at a third of the hold",
    )
    return parser


def phases(arguments: argparse.Namespace, directory: Path) -> list[AbstractContextManager[Target]]:
    """What the run loads, in order: the baseline first (when there is one)."""
    if arguments.servers:
        loaded: list[AbstractContextManager[Target]] = []
        if arguments.baseline_server:
            loaded.append(
                nullcontext(given([arguments.baseline_server], arguments.api_key, "baseline"))
            )
        count = len(arguments.servers)
        name = "1 server" if count == 1 else f"{count} servers"
        loaded.append(nullcontext(given(arguments.servers, arguments.api_key, name)))
        return loaded
    logs = arguments.logs
    return ([] if arguments.no_baseline else [baseline(directory, logs)]) + [
        cluster(directory, arguments.nodes, logs)
    ]


def main() -> None:
    from cluster_report import derived, table

    arguments = arguments_parser().parse_args()
    if arguments.quick:
        arguments.meetings, arguments.size, arguments.hold = 8, 5, 10.0
        arguments.mute_every = 1.0
    arguments.bot_processes = max(1, min(arguments.bot_processes, arguments.meetings))
    planned = arguments.meetings * arguments.size
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="meetwarden-cluster-load-") as directory:
        for phase in phases(arguments, Path(directory)):
            with phase as target:
                figures[target.name] = run(target, arguments)
    rows = {name: derived(f, planned, arguments.hold) for name, f in figures.items()}
    print(
        f"\n{arguments.meetings} meetings of {arguments.size}, {arguments.rate:g} joins/s, "
        f"admit {arguments.admit}, held {arguments.hold:g} s, a mute every "
        f"{arguments.mute_every:g} s per meeting, {arguments.bot_processes} bot processes\n"
    )
    print(table(rows))
    for name, phase in figures.items():
        for key in ("failed", "lost", "mute_failures", "admit_failures"):
            if phase[key]:
                print(f"{name}: {key}: {phase[key]}")
    if arguments.json:
        document = {
            "arguments": {
                key: str(value) if isinstance(value, Path) else value
                for key, value in vars(arguments).items()
            }
        }
        document |= {"phases": figures, "rows": rows}
        arguments.json.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
