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

    python bench/media_forwarding.py            # about 4 minutes
    python bench/media_forwarding.py --quick    # about 2 minutes, noisier
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
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


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


def point(mode: str, subscribers: int, args: argparse.Namespace) -> dict[str, Any]:
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
            str(HERE / "media_server.py"),
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


def fit(points: list[dict[str, Any]], low: int, high: int) -> tuple[float, float]:
    """Least-squares (fixed, per subscriber) of server CPU over N in [low, high]."""
    chosen = [p for p in points if low <= p["subscribers"] <= high]
    xs = [float(p["subscribers"]) for p in chosen]
    ys = [float(p["server_cpu"]) for p in chosen]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _row(mode: str, p: dict[str, Any]) -> str:
    fps = p["fps"]
    latency = _median(p["latency_ms"])
    return (
        f"{mode:<10} {p['subscribers']:>3} {p['server_cpu']:>9.3f} {p['client_cpu']:>8.2f}"
        f" {min(fps):>7.1f} {statistics.median(fps):>7.1f} {latency:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s warm-up, 4 s windows")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--measure", type=float, default=10.0)
    parser.add_argument("--subscribers", default="1,2,4,8")
    parser.add_argument("--large", type=int, default=32, help="meetwarden only; 0 to skip")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.measure = 2.0, 4.0
    counts = [int(n) for n in args.subscribers.split(",")]
    started = time.monotonic()
    results: dict[str, Any] = {"args": vars(args)}

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
    for mode in ("relay", "meetwarden"):
        results[mode] = []
        for n in counts:
            measured = point(mode, n, args)
            results[mode].append(measured)
            print(_row(mode, measured), flush=True)
    if args.large:
        measured = point("meetwarden", args.large, args)
        results["meetwarden"].append(measured)
        print(_row("meetwarden", measured), flush=True)

    high = max(counts)
    _relay_fixed, relay_slope = fit(results["relay"], 1, high)
    _mw_fixed, mw_slope = fit(results["meetwarden"], 1, high)
    rates = [
        p["packets_per_subscriber"] for p in results["meetwarden"] if p["packets_per_subscriber"]
    ]
    packets_per_second = statistics.median(rates)
    us_per_packet = 1e6 * mw_slope / packets_per_second
    print()
    print(
        f"1. server CPU per extra subscriber (fit N=1..{high}):"
        f" relay {relay_slope:.4f} core, meetwarden {mw_slope:.5f} core"
        f" -> ratio {relay_slope / mw_slope:.0f}x (goal >= 20x, aim 60x)"
    )
    healthy = [p for p in results["relay"] if min(p["fps"]) >= 29.5]
    if 2 <= len(healthy) < len(results["relay"]):
        top = max(p["subscribers"] for p in healthy)
        _, healthy_slope = fit(healthy, 1, top)
        print(
            f"   the relay saturates above N={top} (fps < 29.5, so its CPU stops growing);"
            f" fit over N=1..{top} only: {healthy_slope:.4f} core"
            f" -> ratio {healthy_slope / mw_slope:.0f}x"
        )
    at_high = {
        m: next(p for p in results[m] if p["subscribers"] == high) for m in ("relay", "meetwarden")
    }
    print(
        f"   every subscriber's fps at N={high}: relay min {min(at_high['relay']['fps']):.1f},"
        f" meetwarden min {min(at_high['meetwarden']['fps']):.1f} (goal >= 29.5)"
    )
    if args.large:
        large = results["meetwarden"][-1]
        print(
            f"   meetwarden at N={args.large}: min fps {min(large['fps']):.1f},"
            f" server {large['server_cpu']:.3f} core"
        )
        _, slope_large = fit(results["meetwarden"], high, args.large)
        print(
            f"   scaling: per-subscriber CPU fit N={high}..{args.large} / fit N=1..{high}:"
            f" {slope_large / mw_slope:.2f} (sanity goal <= 1.2)"
        )
    print(
        f"2. meetwarden CPU per forwarded packet: {us_per_packet:.1f} us"
        f" ({packets_per_second:.0f} packets/s per subscriber, video + audio);"
        f" / floor on {args.loop} {results['floor_us'][args.loop]:.1f} us"
        f" = {us_per_packet / results['floor_us'][args.loop]:.2f}x,"
        f" / floor on asyncio {results['floor_us']['asyncio']:.1f} us"
        f" = {us_per_packet / results['floor_us']['asyncio']:.2f}x (goal <= 6x, aim 2x)"
    )
    direct = _median(results["direct"]["latency_ms"])
    for mode in ("meetwarden", "relay"):
        for p in results[mode]:
            if p["subscribers"] in (1, high):
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
