"""Issue 14, real networks: loss repair, measured beside the server before it, in one run.

Each scenario impairs one link with the relay of tests/support/impair.py: the
publisher's (up: publisher to server, down: the server's feedback to it) or
the first viewer's. It runs twice, once on meetwarden and once on meetwarden
as it was before it repaired losses (bench/media_server.py --no-loss-repair:
no NACKs to the publisher, retransmissions dropped), the order alternating
from one scenario to the next, each on a server process of its own. The
publisher sends 640x480@30 VP8 at a fixed 500 kbit/s (as bench/media_forwarding.py);
``--viewers`` subscribers decode it. Per scenario and side, over the window
(the impairment starts with it; a burst or a path change comes a third into it):

- frames decoded per viewer, freezes (gaps over 500 ms between decoded
  frames), their total and longest, decode errors, and after a burst the
  recovery time (burst end to the first frame from which on a viewer has
  neither a freeze nor a decode error for 1 s; tests/support/frame_log.py);
- the server's CPU over the window, and what its repair did (NACKs sent,
  packets repaired, gaps given up).

Then the ratios now / before (freeze time, frames) and the targets: under 2 %
loss a freeze time at most a fifth of the server before; under 10 % no freeze
longer than 2 s; recovery from a 1 s burst within 1 s.

The constrained viewer: the first viewer's link carries 300 kbit/s (the relay's
token bucket, towards the viewer), the others are direct, and the publisher
sends a microphone too. The server before is also without bandwidth control
(``--no-bandwidth-control``: it forwards everything to every link). Reported per
viewer: frames, freeze time, audio frames decoded, frame sizes; for the
unconstrained viewers their frames now / before and now / the same meeting with
no limit on any link (the reference scenario, run beside it); for the constrained
one its audio frames against an unconstrained viewer's.

    python bench/media_network.py              # about 6 minutes
    python bench/media_network.py --quick      # 10 s windows, about 3 minutes
    python bench/media_network.py --only "300 kbit" --rounds 3   # the constrained viewer
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_clients import Control, task_cpu_seconds
from support.frame_log import ViewerFigures
from support.impair import Impairment
from support.network_meeting import NetworkMeeting, Scenario

from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate, restrict_host_addresses

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
BITRATE = 500_000


def _loss(share: float) -> Impairment:
    return Impairment(loss=share)


JITTER = Impairment(delay=0.1, jitter=0.03)
SCENARIOS = [
    Scenario("2% loss, publisher", "publisher", _loss(0.02), _loss(0.02)),
    Scenario("10% loss, publisher", "publisher", _loss(0.10), _loss(0.10)),
    Scenario("2% loss, one viewer", "subscriber", _loss(0.02), _loss(0.02)),
    Scenario("10% loss, one viewer", "subscriber", _loss(0.10), _loss(0.10)),
    Scenario("100+-30 ms, publisher", "publisher", JITTER, JITTER),
    Scenario("2% loss + 100+-30 ms, pub.", "publisher", Impairment(0.02, 0.1, 0.03), JITTER),
    Scenario("1 s burst, publisher", "publisher", burst=1.0),
    Scenario("path change, one viewer", "subscriber", path_change=True),
]
CONSTRAINED = Scenario("300 kbit/s, one viewer", "subscriber", down=Impairment(rate=300_000))
REFERENCE = Scenario("300 kbit/s reference: no limit", "none")
SCENARIOS += [REFERENCE, CONSTRAINED]
WITH_AUDIO = {CONSTRAINED.name, REFERENCE.name}
SIDES = {"now": [], "before": ["--no-loss-repair", "--no-bandwidth-control"]}


class ControlEndpoint:
    """bench/media_server.py, as NetworkMeeting's MediaEndpoint."""

    def __init__(self, control: Control) -> None:
        self.control = control

    async def publish(self, participant: str, sdp: str, sources: Mapping[str, str]) -> str:
        reply = await self.control.call(
            "publish", participant=participant, sdp=sdp, sources=dict(sources)
        )
        return str(reply["sdp"])

    async def subscribe(self, participant: str) -> str:
        return str((await self.control.call("subscribe", participant=participant))["sdp"])

    async def answer(self, participant: str, sdp: str) -> None:
        await self.control.call("answer", participant=participant, sdp=sdp)


@dataclass
class Run:
    scenario: str
    side: str
    viewers: list[ViewerFigures]
    server_cpu: float
    stats: dict[str, Any]
    audio: list[int]
    """Audio frames each viewer decoded in the window."""
    sizes: list[dict[str, int]]
    """Frames each viewer decoded, by size ("640x480")."""
    bandwidth: list[dict[str, Any]]
    """Each viewer's estimate and pauses at the end (bench/media_server.py bandwidth)."""


async def run_once(scenario: Scenario, side: str, args: argparse.Namespace) -> Run:
    """One server process, one meeting on it, one window."""
    socket_path = os.path.join(tempfile.mkdtemp(prefix="mw-network-"), "control.sock")
    command = [str(HERE / "media_server.py"), "--mode", "meetwarden", "--socket", socket_path]
    server = await asyncio.create_subprocess_exec(
        PYTHON,
        *command,
        "--loop",
        args.loop,
        *SIDES[side],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        if (await server.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the server did not start")
        control = Control(*await asyncio.open_unix_connection(socket_path))
        meeting = NetworkMeeting(
            ControlEndpoint(control),
            scenario,
            viewers=args.viewers,
            size=(640, 480),
            seed=args.seed,
            audio=scenario.name in WITH_AUDIO,
        )
        try:
            await meeting.start()
            await asyncio.sleep(args.warmup)  # the stream settles (REMB, first keyframes)
            cpu = task_cpu_seconds(server.pid)
            started = time.monotonic()
            figures = await meeting.run(args.seconds)
            cpu = (task_cpu_seconds(server.pid) - cpu) / (time.monotonic() - started)
            stats = (await control.call("stats", participant="publisher", source="camera"))["stats"]
            bandwidth = [
                (await control.call("bandwidth", participant=viewer.name))["bandwidth"]
                for viewer in meeting.viewers
            ]
            assert meeting.window is not None
            start, end = meeting.window
            audio = [
                sum(1 for t in viewer.audio_times if start <= t <= end)
                for viewer in meeting.viewers
            ]
            sizes = [
                {f"{w}x{h}": n for (w, h), n in viewer.sizes.items()} for viewer in meeting.viewers
            ]
        finally:
            await meeting.close()
        await control.call("quit")
        await asyncio.wait_for(server.wait(), 30)
        return Run(scenario.name, side, figures, cpu, stats, audio, sizes, bandwidth)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


def _mean(values: list[float]) -> float:
    return statistics.mean(values) if values else 0.0


def _row(run: Run, burst: bool) -> str:
    views = run.viewers
    recovery = "-"
    if burst:
        recoveries = [v.recovery for v in views]
        slowest = max((r for r in recoveries if r is not None), default=0.0)
        recovery = "never" if None in recoveries else f"{slowest:.2f}"
    stats = run.stats
    return (
        f"{run.scenario:<28} {run.side:<7}"
        f" {_mean([v.frames for v in views]):>7.1f}"
        f" {sum(v.freezes for v in views):>4}"
        f" {sum(v.freeze_time for v in views):>7.2f}"
        f" {max(v.max_freeze for v in views):>6.2f}"
        f" {sum(v.decode_errors for v in views):>5}"
        f" {recovery:>6}"
        f" {run.server_cpu:>6.3f}"
        f" {stats.get('nacks_sent', 0):>5} {stats.get('packets_repaired', 0):>5}"
        f" {stats.get('gaps_given_up', 0):>4}"
    )


def _ratio(now: float, before: float) -> str:
    if before == 0:
        return "n/a (0 before)" if now == 0 else "inf"
    return f"{now / before:.3f}"


def summarise(runs: list[Run], burst: bool, impaired_viewer: bool) -> list[str]:
    """Now / before for one scenario (medians over rounds), and the targets."""
    by_side = {side: [r for r in runs if r.side == side] for side in SIDES}

    def pick(side: str) -> list[list[ViewerFigures]]:
        chosen = [r.viewers for r in by_side[side]]
        return [views[:1] for views in chosen] if impaired_viewer else chosen

    freeze = {
        side: statistics.median(sum(v.freeze_time for v in views) for views in pick(side))
        for side in SIDES
    }
    frames = {
        side: statistics.median(_mean([v.frames for v in views]) for views in pick(side))
        for side in SIDES
    }
    longest = {side: max(v.max_freeze for views in pick(side) for v in views) for side in SIDES}
    whose = "the impaired viewer" if impaired_viewer else "every viewer"
    lines = [
        f"    {whose}: freeze time now / before {_ratio(freeze['now'], freeze['before'])}"
        f" ({freeze['now']:.2f} s / {freeze['before']:.2f} s),"
        f" frames delivered now / before {_ratio(frames['now'], frames['before'])},"
        f" longest freeze now {longest['now']:.2f} s, before {longest['before']:.2f} s"
    ]
    if burst:
        shown = {}
        for side in SIDES:
            values = [v.recovery for views in pick(side) for v in views]
            slowest = max((r for r in values if r is not None), default=0.0)
            shown[side] = "never" if None in values else f"{slowest:.2f} s"
        lines.append(
            f"    recovery after the burst or path change (slowest viewer): now {shown['now']},"
            f" before {shown['before']} (target for a 1 s burst <= 1 s)"
        )
    return lines


def summarise_constrained(runs: list[Run], reference: list[Run]) -> list[str]:
    """The constrained viewer (viewer 0) and the others, now and before (medians)."""
    lines = []
    for side in SIDES:
        mine = [r for r in runs if r.side == side]
        if not mine:
            continue
        cells = []
        for index, name in enumerate(v.name for v in mine[0].viewers):
            frames = statistics.median(r.viewers[index].frames for r in mine)
            freeze = statistics.median(r.viewers[index].freeze_time for r in mine)
            audio = statistics.median(r.audio[index] for r in mine)
            sizes = sorted({size for r in mine for size in r.sizes[index]})
            cells.append(
                f"{name} {frames:.0f} frames, {freeze:.2f} s frozen, {audio:.0f} audio,"
                f" {'/'.join(sizes) or '-'}"
            )
        pauses = [r.bandwidth[0].get("pauses", 0) for r in mine]
        lines.append(f"    {side}: " + "; ".join(cells) + f" (viewer-0 paused {pauses} times)")

    def others(side: str, among: list[Run]) -> float:
        chosen = [r for r in among if r.side == side]
        return statistics.median(_mean([v.frames for v in r.viewers[1:]]) for r in chosen)

    def heard(side: str) -> float:
        chosen = [r for r in runs if r.side == side]
        return statistics.median(r.audio[0] / max(_mean(r.audio[1:]), 1) for r in chosen)

    now, before = others("now", runs), others("before", runs)
    line = f"    unconstrained viewers: frames now / before {_ratio(now, before)}"
    if any(r.side == "now" for r in reference):
        line += f", now / with no limit on any link {_ratio(now, others('now', reference))}"
    lines.append(line)
    lines.append(
        f"    constrained viewer's audio frames / an unconstrained viewer's:"
        f" now {heard('now'):.3f}, before {heard('before'):.3f}"
    )
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    restrict_host_addresses(["127.0.0.1"])
    pin_vp8_bitrate(BITRATE)
    chosen = [s for s in SCENARIOS if not args.only or args.only.lower() in s.name.lower()]
    print(
        f"{'scenario':<28} {'side':<7} {'frames':>7} {'frz':>4} {'frz s':>7} {'max s':>6}"
        f" {'dec.e':>5} {'recov':>6} {'cpu':>6} {'nacks':>5} {'rep.':>5} {'gvup':>4}",
        flush=True,
    )
    runs: list[Run] = []
    turn = 0
    for scenario in chosen:
        for _ in range(args.rounds):
            for side in list(SIDES) if turn % 2 == 0 else list(SIDES)[::-1]:
                run = await run_once(scenario, side, args)
                runs.append(run)
                print(_row(run, bool(scenario.burst or scenario.path_change)), flush=True)
            turn += 1
    print()
    print(
        f"now / before, per scenario ({args.viewers} viewers, {args.seconds:.0f} s windows,"
        f" {args.rounds} round(s)):"
    )
    for scenario in chosen:
        print(f"  {scenario.name}")
        mine = [r for r in runs if r.scenario == scenario.name]
        if scenario is CONSTRAINED:
            reference = [r for r in runs if r.scenario == REFERENCE.name]
            for line in summarise_constrained(mine, reference):
                print(line)
            continue
        recovers = bool(scenario.burst or scenario.path_change)
        for line in summarise(mine, recovers, scenario.impaired == "subscriber"):
            print(line)
    return {"args": vars(args), "runs": [asdict(r) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s windows")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--only", help="the scenarios whose name contains this")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--json", help="also write every run to this file")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 10.0
    started = time.monotonic()
    results = asyncio.run(main_async(args))
    print(f"({time.monotonic() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
