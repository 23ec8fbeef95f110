"""Issue 5, measurements 1, 2 and 4, side by side in one run; prints ratios.

1. Server CPU per additional subscriber, linear fit over N = 1, 2, 4, 8:
   aiortc MediaRelay (decode once, encode per subscriber) / meetwarden.
   Every subscriber's frame rate at N = 8 for both, meetwarden's at N = 32.
2. meetwarden's server CPU per forwarded packet / a bare asyncio UDP + SRTP
   relay with fan-out 8 measured in this run (bench/media_floor.py), per loop.
4. Capture-to-decoded latency at a subscriber through the server, minus the
   same over a direct peer connection (no server), medians.

Publisher: 640x480@30 VP8 at a fixed 500 kbit/s plus Opus. The server runs in
its own process (bench/media_server.py); the publisher and subscribers in
another (bench/media_clients.py). All traffic on 127.0.0.1; every step has a
hard timeout.

``--against REF`` also runs meetwarden's server as it was at commit REF (that
commit's own bench/media_server.py, its code imported through bench/baseline.py)
for measurements 1 and 2, interleaved with the current one point by point (the
order alternating) so that the machine's load reaches both alike, and prints
both figures and the ratio now / before. The client process is the current
bench/media_clients.py for both: its control protocol with media_server.py
(publish, subscribe, answer, cpu_start, cpu_stop, quit) has not changed since
dc682de. ``--rounds`` repeats every meetwarden point; fits pool the rounds.

    python bench/media_forwarding.py            # about 4 minutes
    python bench/media_forwarding.py --quick    # about 2 minutes, noisier
    python bench/media_forwarding.py --against dc682de    # 3 rounds, about 14 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baseline import checkout, describe, environment

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Side:
    """Which meetwarden runs the server: the current tree, or a past commit."""

    name: str
    server: Path
    """Its bench/media_server.py."""
    pythonpath: str | None = None


NOW = Side("meetwarden", HERE / "media_server.py")


def _json_line(output: str) -> dict[str, Any]:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise RuntimeError(f"no result in output:\n{output[-2000:]}")


def floor(loop: str, seconds: float) -> float:
    done = subprocess.run(
        [PYTHON, str(HERE / "media_floor.py"), "--loop", loop, "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(_json_line(done.stdout)["us_per_sent_packet"])


def point(
    mode: str, subscribers: int, args: argparse.Namespace, side: Side = NOW
) -> dict[str, Any]:
    """One server process and one client process; returns the client's JSON result."""
    client_args = ["--warmup", str(args.warmup), "--measure", str(args.measure)]
    if mode == "direct":
        done = subprocess.run(
            [PYTHON, str(HERE / "media_clients.py"), "--direct", *client_args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return _json_line(done.stdout)
    socket_path = os.path.join(tempfile.mkdtemp(prefix="mw-bench-"), "control.sock")
    server = subprocess.Popen(
        [
            PYTHON,
            str(side.server),
            "--mode",
            mode,
            "--socket",
            socket_path,
            "--loop",
            args.loop,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(side.pythonpath),
    )
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{mode} server did not start")
        done = subprocess.run(
            [
                PYTHON,
                str(HERE / "media_clients.py"),
                "--socket",
                socket_path,
                "--subscribers",
                str(subscribers),
                "--server-pid",
                str(server.pid),
                *client_args,
            ],
            capture_output=True,
            text=True,
            timeout=120 + args.warmup + args.measure,
            check=True,
        )
        server.wait(timeout=30)
        return _json_line(done.stdout)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def server_cpu(p: dict[str, Any]) -> float:
    """The server's cores in the window: from its threads' schedstat (to the nanosecond)
    where the client could read it, else from the server's os.times() (10 ms ticks)."""
    precise = p.get("server_cpu_precise")
    return float(precise if precise is not None else p["server_cpu"])


def fit(points: list[dict[str, Any]], low: int, high: int) -> tuple[float, float]:
    """Least-squares (fixed, per subscriber) of server CPU over N in [low, high]."""
    chosen = [p for p in points if low <= p["subscribers"] <= high]
    xs = [float(p["subscribers"]) for p in chosen]
    ys = [server_cpu(p) for p in chosen]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _row(mode: str, p: dict[str, Any]) -> str:
    fps = p["fps"]
    latency = _median(p["latency_ms"])
    return (
        f"{mode:<10} {p['subscribers']:>3} {server_cpu(p):>9.4f} {p['client_cpu']:>8.2f}"
        f" {min(fps):>7.1f} {statistics.median(fps):>7.1f} {latency:>9.1f}"
    )


def measure_meetwarden(
    counts: list[int], args: argparse.Namespace, sides: list[Side]
) -> dict[str, list[dict[str, Any]]]:
    """Every meetwarden point, for each side, ``--rounds`` times; with two sides the
    order alternates point by point, so that neither always runs first."""
    results: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    sizes = counts + ([args.large] if args.large else [])
    turn = 0
    for round_number in range(args.rounds):
        for n in sizes:
            for side in sides if turn % 2 == 0 else sides[::-1]:
                measured = point("meetwarden", n, args, side)
                measured["round"] = round_number
                results[side.name].append(measured)
                print(_row(side.name, measured), flush=True)
            turn += 1
    return results


def summarise(points: list[dict[str, Any]], high: int, large: int) -> dict[str, Any]:
    """One side's figures: the fitted CPU per subscriber (pooled over rounds and per
    round), the CPU per forwarded packet, the frame rates at N = high and N = large."""
    _, slope = fit(points, 1, high)
    rounds = sorted({p["round"] for p in points})
    rates = [p["packets_per_subscriber"] for p in points if p["packets_per_subscriber"]]
    packets_per_second = statistics.median(rates)
    figures: dict[str, Any] = {
        "slope": slope,
        "round_slopes": [fit([p for p in points if p["round"] == r], 1, high)[1] for r in rounds],
        "packets_per_second": packets_per_second,
        "us_per_packet": 1e6 * slope / packets_per_second,
        "fps_min_at_high": min(min(p["fps"]) for p in points if p["subscribers"] == high),
    }
    if large:
        at_large = [p for p in points if p["subscribers"] == large]
        figures["fps_min_at_large"] = min(min(p["fps"]) for p in at_large)
        figures["cpu_at_large"] = statistics.median(server_cpu(p) for p in at_large)
        figures["scaling"] = fit(points, high, large)[1] / slope
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s warm-up, 4 s windows, 1 round")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--measure", type=float, default=10.0)
    parser.add_argument("--subscribers", default="1,2,4,8")
    parser.add_argument("--large", type=int, default=32, help="meetwarden only; 0 to skip")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument(
        "--against", metavar="REF", help="also meetwarden at this commit, e.g. dc682de"
    )
    parser.add_argument(
        "--rounds", type=int, help="meetwarden points per N (default 3 with --against, else 1)"
    )
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.measure = 2.0, 4.0
    if args.rounds is None:
        args.rounds = 3 if args.against and not args.quick else 1
    counts = [int(n) for n in args.subscribers.split(",")]
    started = time.monotonic()
    results: dict[str, Any] = {"args": vars(args)}
    sides = [NOW]
    if args.against:
        source, pythonpath = checkout(args.against)
        sides.append(Side("before", source / "bench" / "media_server.py", pythonpath))
        results["before_commit"] = describe(args.against)
        print(f"before = {results['before_commit']}", flush=True)

    results["floor_us"] = {loop: floor(loop, 3.0) for loop in ("asyncio", "uvloop")}
    print(
        "floor (asyncio UDP + SRTP relay, fan-out 8): "
        + ", ".join(f"{k} {v:.1f} us/packet" for k, v in results["floor_us"].items()),
        flush=True,
    )
    results["direct"] = point("direct", 1, args)
    print(
        f"{'mode':<10} {'N':>3} {'srv core':>9} {'cli core':>8} {'fps min':>7} {'fps med':>7}"
        f" {'lat ms':>9}",
        flush=True,
    )
    print(_row("direct", results["direct"]), flush=True)
    results["relay"] = []
    for n in counts:
        measured = point("relay", n, args)
        results["relay"].append(measured)
        print(_row("relay", measured), flush=True)
    results.update(measure_meetwarden(counts, args, sides))

    high = max(counts)
    _relay_fixed, relay_slope = fit(results["relay"], 1, high)
    figures = {side.name: summarise(results[side.name], high, args.large) for side in sides}
    results["figures"] = figures
    now = figures["meetwarden"]
    mw_slope = now["slope"]
    print()
    print(
        f"1. server CPU per extra subscriber (fit N=1..{high}):"
        f" relay {relay_slope:.4f} core, meetwarden {mw_slope:.5f} core"
        f" -> ratio {relay_slope / mw_slope:.0f}x (goal >= 20x, aim 60x)"
    )
    if "before" in figures:
        before = figures["before"]
        print(
            f"   before ({args.against}): {before['slope']:.5f} core"
            f" -> relay / before {relay_slope / before['slope']:.0f}x;"
            f" now / before = {mw_slope / before['slope']:.2f} (goal <= 1.10)"
        )
    if args.rounds > 1:
        for side in sides:
            slopes = ", ".join(f"{s:.5f}" for s in figures[side.name]["round_slopes"])
            print(f"   {side.name}, each round: {slopes} core")
    healthy = [p for p in results["relay"] if min(p["fps"]) >= 29.5]
    if 2 <= len(healthy) < len(results["relay"]):
        top = max(p["subscribers"] for p in healthy)
        _, healthy_slope = fit(healthy, 1, top)
        print(
            f"   the relay saturates above N={top} (fps < 29.5, so its CPU stops growing);"
            f" fit over N=1..{top} only: {healthy_slope:.4f} core"
            f" -> ratio {healthy_slope / mw_slope:.0f}x"
        )
    relay_high = next(p for p in results["relay"] if p["subscribers"] == high)
    print(
        f"   every subscriber's fps at N={high}: relay min {min(relay_high['fps']):.1f},"
        + ", ".join(f" {name} min {f['fps_min_at_high']:.1f}" for name, f in figures.items())
        + " (goal >= 29.5)"
    )
    if args.large:
        for name, f in figures.items():
            print(
                f"   {name} at N={args.large}: min fps {f['fps_min_at_large']:.1f},"
                f" server {f['cpu_at_large']:.3f} core; scaling: per-subscriber CPU"
                f" fit N={high}..{args.large} / fit N=1..{high}: {f['scaling']:.2f}"
                " (sanity goal <= 1.2)"
            )
    floor_loop, floor_asyncio = results["floor_us"][args.loop], results["floor_us"]["asyncio"]
    for name, f in figures.items():
        label = "meetwarden CPU per forwarded packet" if name == "meetwarden" else f"   {name}"
        print(
            f"{'2. ' if name == 'meetwarden' else ''}{label}: {f['us_per_packet']:.1f} us"
            f" ({f['packets_per_second']:.0f} packets/s per subscriber, video + audio);"
            f" / floor on {args.loop} {floor_loop:.1f} us"
            f" = {f['us_per_packet'] / floor_loop:.2f}x,"
            f" / floor on asyncio {floor_asyncio:.1f} us"
            f" = {f['us_per_packet'] / floor_asyncio:.2f}x (goal <= 6x, aim 2x)"
        )
    if "before" in figures:
        print(
            f"   now / before = {now['us_per_packet'] / figures['before']['us_per_packet']:.2f}"
            " (goal <= 1.10)"
        )
    direct = _median(results["direct"]["latency_ms"])
    for mode in ("meetwarden", "relay"):
        for p in results[mode]:
            if p["subscribers"] in (1, high) and p.get("round", 0) == 0:
                added = _median(p["latency_ms"]) - direct
                print(
                    f"4. {mode} N={p['subscribers']}: capture->decoded median"
                    f" {_median(p['latency_ms']):.1f} ms, direct {direct:.1f} ms,"
                    f" added {added:.1f} ms (goal <= 40, aim 5)"
                )
    print(f"(server loop {args.loop}; {time.monotonic() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
