"""Meetings held by `meetwarden serve --workers 2` beside `--workers 1`, in the same run.

Each step starts `meetwarden serve --workers N` afresh (SQLite in a temporary
directory, the door as shipped), creates a number of meetings through the API
(no waiting room), and has the load generator join each meeting's host and
``--size - 1`` participants as raw WebSocket clients (bench/workers_clients.py,
``--generators`` processes on uvloop; each meeting's people come from a
loopback address of their own). Then every person acts every ``--every``
seconds, at a phase of its own: a participant raises a hand, chats, lowers it,
chats; the host mutes a participant, then asks it to unmute, then the next.
Each of these is decided by the meeting's Room and its effect sent to everyone
in the meeting (roster changes, notices, the chat itself).

A step holds when, over its ``--window`` (after ``--warmup``), the p95 time
from a request to its ``result`` is under ``--p95-ms``, no request goes
unanswered (within ``--grace`` after the window), no ``error`` is sent, no
socket is closed and every join was admitted. Meetings held, for each side, is
the largest count that held: the count grows by ``--grow`` until a step fails,
then is bisected to within ``--resolution``. The two sides alternate, step by
step (the side that goes first alternates too), so that the same generator and
the same machine load reach both alike.

CPU is read from /proc over each window: the serve process and all its
children (the front process, each worker, multiprocessing's resource
tracker), the generator processes, and the whole machine (/proc/stat), so that
what the generator and others on the machine take is in the report. The
generator runs on the same cores as the server, so it is also reported how
many meetings each server core-second carries for each side ("per-core
capacity"), and how the two workers shared the work.

``--cores-per-worker Q`` gives the server Q cores per worker (a CPU quota on its
process tree, bench/cpu_quota.py; root): one worker Q, two workers 2Q, wherever
the generator runs. With ``--quota-each-worker`` each worker has its own Q, so
that neither uses time the other leaves.

    python bench/workers.py              # full ladder, 10 s windows (~10 min)
    python bench/workers.py --cores-per-worker 0.7 --quota-each-worker --start 250
    python bench/workers.py --quick      # coarse ladder, 4 s windows (< 2 min)
    python bench/workers.py --json workers.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cpu_quota import CpuQuota
from workers_server import Serve, Step, operator_headers, run_step

# --- the ladder ----------------------------------------------------------------------------


@dataclass
class Ladder:
    """The meeting counts one side tries: grow until a step fails, then bisect."""

    start: int
    grow: float
    resolution: float
    held: int = 0
    failed: int | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.failed is not None and self.failed - self.held <= max(
            2, math.ceil(self.held * self.resolution)
        )

    def next_count(self) -> int:
        if self.failed is None:
            return self.start if not self.steps else math.ceil(self.held * self.grow)
        return (self.held + self.failed) // 2

    def record(self, step: Step) -> None:
        self.steps.append(step)
        if step.held:
            self.held = max(self.held, step.meetings)
        else:
            self.failed = min(self.failed or step.meetings, step.meetings)

    def best(self) -> Step | None:
        held = [step for step in self.steps if step.held and step.meetings == self.held]
        return held[-1] if held else None


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bar(done: int, total: int, width: int = 20) -> str:
    filled = min(width, round(width * done / max(1, total)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


async def measure(arguments: argparse.Namespace, directory: Path) -> dict[int, Ladder]:
    ladders = {
        workers: Ladder(arguments.start, arguments.grow, arguments.resolution) for workers in (1, 2)
    }
    serves, operators = {}, {}
    for workers in ladders:
        data_dir = directory / f"data-{workers}"
        serves[workers] = Serve(workers, data_dir, directory / f"serve-{workers}.log")
        if arguments.cores_per_worker:
            serves[workers].quota = CpuQuota(
                arguments.cores_per_worker * workers, f"meetwarden-bench-{os.getpid()}-{workers}"
            )
            if arguments.quota_each_worker:
                serves[workers].quota_each = arguments.cores_per_worker
        operators[workers] = operator_headers(data_dir)
    try:
        began = time.monotonic()
        for round_number in range(arguments.max_rounds):
            order = (1, 2) if round_number % 2 == 0 else (2, 1)
            for workers in order:
                ladder = ladders[workers]
                if ladder.done:
                    continue
                if time.monotonic() - began > arguments.max_minutes * 60:
                    progress(f"stopping: past --max-minutes {arguments.max_minutes}")
                    return ladders
                count = ladder.next_count()
                progress(
                    f"{bar(round_number, arguments.max_rounds)} {time.monotonic() - began:5.0f} s  "
                    f"--workers {workers}: {count} meetings of {arguments.size} ..."
                )
                step = await run_step(arguments, serves[workers], operators[workers], count)
                ladder.record(step)
                progress(
                    f"{'':22}  {'held' if step.held else 'NOT held: ' + step.why}; "
                    f"p50 {step.p50_ms:.0f} ms, p95 {step.p95_ms:.0f} ms, "
                    f"{step.requests_per_s:.0f} requests/s, server {step.server_cores:.2f} cores "
                    f"{step.process_cores}, waited {step.server_waited:.2f}, "
                    f"throttled {step.throttled:.2f}, "
                    f"generator {step.generator_cores:.2f}, "
                    f"others {step.others_cores:.2f}"
                )
            if all(ladder.done for ladder in ladders.values()):
                break
    finally:
        for serve in serves.values():
            if serve.quota:
                serve.quota.remove()
    return ladders


def summary(ladders: dict[int, Ladder]) -> dict[str, Any]:
    one, two = ladders[1].best(), ladders[2].best()
    result: dict[str, Any] = {
        "held": {str(w): ladder.held for w, ladder in ladders.items()},
        "first_failed": {str(w): ladder.failed for w, ladder in ladders.items()},
        "converged": {str(w): ladder.done for w, ladder in ladders.items()},
        "steps": [asdict(step) for ladder in ladders.values() for step in ladder.steps],
    }
    if one and two:
        result["ratio"] = round(two.meetings / one.meetings, 3)
        per_core_one = one.meetings / one.server_cores
        per_core_two = two.meetings / two.server_cores
        result["meetings_per_server_core"] = {
            "1": round(per_core_one, 1),
            "2": round(per_core_two, 1),
        }
        result["per_core_ratio"] = round(per_core_two / per_core_one, 3)
        worker_cores = [v for k, v in two.process_cores.items() if k.startswith("worker")]
        result["worker_balance"] = round(min(worker_cores) / max(worker_cores), 3)
    return result


def report(
    arguments: argparse.Namespace, ladders: dict[int, Ladder], figures: dict[str, Any]
) -> None:
    print(f"$ {figures['command']}")
    print(
        f"meetings of {arguments.size} (a host and {arguments.size - 1} participants), each person "
        f"acting every {arguments.every} s; held: p95 answer < {arguments.p95_ms:.0f} ms over "
        f"{arguments.window:.0f} s, nothing unanswered, no error, no socket closed; "
        f"{arguments.generators} generator processes; cores: {os.cpu_count()}; "
        + (
            f"the server's CPU quota: {arguments.cores_per_worker} cores per worker"
            f"{' (each worker its own)' if arguments.quota_each_worker else ' (pooled)'}; "
            if arguments.cores_per_worker
            else ""
        )
        + f"load average at the end {[round(v, 2) for v in os.getloadavg()]}"
    )
    print(
        f"{'workers':>7} {'meetings':>8} {'held':>5} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6} "
        f"{'server':>7} {'waited':>6} {'thrott':>6} {'ms/mtg':>7} {'gen':>5} {'others':>6}  "
        "per process / meetings per worker"
    )
    for workers, ladder in ladders.items():
        for step in sorted(ladder.steps, key=lambda s: s.meetings):
            print(
                f"{workers:>7} {step.meetings:>8} {'yes' if step.held else 'no':>5} "
                f"{step.p50_ms:>7.0f} {step.p95_ms:>7.0f} {step.requests_per_s:>6.0f} "
                f"{step.server_cores:>7.2f} {step.server_waited:>6.2f} {step.throttled:>6.2f} "
                f"{step.server_ms_per_meeting:>7.2f} "
                f"{step.generator_cores:>5.2f} {step.others_cores:>6.2f}  "
                f"{step.process_cores} / {step.split}" + ("" if step.held else f"  ({step.why})")
            )
    print(
        "(server, gen, others: CPU cores used over the window; waited: seconds per second the "
        "server's threads waited for a core; thrott: seconds per second the server's CPU quota "
        "held it back; ms/mtg: server CPU ms per meeting-second)"
    )
    held, failed = figures["held"], figures["first_failed"]

    def side(workers: str) -> str:
        if failed[workers] is None:
            return f"at least {held[workers]} (no step failed)"
        return f"{held[workers]} ({failed[workers]} failed)"

    print(f"meetings held: --workers 1: {side('1')}, --workers 2: {side('2')}")
    if "ratio" in figures:
        print(f"ratio (2 workers / 1): {figures['ratio']:.2f}  (target >= 1.80)")
        per_core = figures["meetings_per_server_core"]
        print(
            f"per-core capacity: {per_core['1']} meetings per server core with 1 worker, "
            f"{per_core['2']} with 2; ratio {figures['per_core_ratio']:.2f}; "
            f"the two workers' CPU, smaller / larger: {figures['worker_balance']:.2f}"
        )
    if not all(figures["converged"].values()):
        print(f"not converged (--max-rounds or --max-minutes): {figures['converged']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=6, help="people per meeting, host included")
    parser.add_argument(
        "--every", type=float, default=2.0, help="seconds between a person's requests"
    )
    parser.add_argument("--start", type=int, default=100, help="meetings in the first step")
    parser.add_argument("--grow", type=float, default=1.5, help="step factor until one fails")
    parser.add_argument("--resolution", type=float, default=0.06, help="bisect to this fraction")
    parser.add_argument("--p95-ms", type=float, default=250.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--grace", type=float, default=5.0, help="seconds for the last answers")
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument("--join-concurrency", type=int, default=32, help="per generator")
    parser.add_argument("--max-rounds", type=int, default=10)
    parser.add_argument("--max-minutes", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="coarse ladder, short windows")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--cores-per-worker",
        type=float,
        help="give the server a CPU quota of this many cores per worker (root; bench/cpu_quota.py)",
    )
    parser.add_argument(
        "--quota-each-worker",
        action="store_true",
        help="with --cores-per-worker: each worker in a group of its own, so that no worker "
        "uses the time another leaves (pooled otherwise)",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.window, arguments.warmup, arguments.grace = 3.0, 1.0, 2.0
        arguments.start, arguments.grow, arguments.resolution = 200, 1.6, 0.25
        arguments.max_rounds, arguments.max_minutes = 4, 1.3  # no new step after 78 s
    import uvloop

    with tempfile.TemporaryDirectory(prefix="meetwarden-workers-") as directory:
        try:
            ladders = uvloop.run(measure(arguments, Path(directory)))
        except BaseException:
            for log in sorted(Path(directory).glob("*.log")):
                print(f"--- the end of {log.name}:\n{log.read_text(errors='replace')[-3000:]}")
            raise
    figures = summary(ladders)
    figures["command"] = "python " + " ".join(sys.argv)
    report(arguments, ladders, figures)
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
