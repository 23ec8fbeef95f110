"""The server's memory over many meetings created and ended, beside a past server.

`meetwarden serve` runs in its own process (media on, on loopback; SQLite in a
temporary directory; MEETWARDEN_ROOM_IDLE_SECONDS=2). Raw WebSocket and HTTP
clients in this process (JSON text, not the SDK, so that the figures are the
server's) go through ``--meetings`` meetings, ``--concurrency`` at a time:
each is created (POST /api/meetings, no waiting room), its host joins with
the host token, a guest joins, and then, by case:

- ended: the host ends the meeting (``end_meeting``);
- left: the guest and then the host leave (``leave``), and the meeting is left
  idle, to be released after the idle time (it loads again if someone comes).

Each case runs on a fresh server. The server's RSS (/proc/PID/status VmRSS) is
read after ``--warmup`` meetings of the same case and a settle period (the
start: first-use imports and caches are not per-meeting), every ``--every``
meetings, and after a settle period at the end (longer than the idle time and
its sweep). The growth per meeting is (settled - start) / meetings. RSS is what
the kernel sees: Python's allocator does not hand every freed page back, and
caches (SQLite's page cache, for one) fill up as the database grows, so a
server that frees every meeting can still sit above its start. So the server
also counts, at the start and once settled, the objects its garbage collector
tracks (bench/objects_server.py: `meetwarden serve` plus GET /bench/objects):
objects kept per meeting, and the types that grew most. ``--allocations``
also traces the server's allocations (tracemalloc) and prints the source lines
whose memory grew most from the start to settled: a diagnostic, its RSS figures
are not comparable. ``--plain`` runs the `meetwarden` command itself instead,
RSS only.

``--against REF`` runs the same on meetwarden as it was at commit REF (its code
imported through bench/baseline.py), case by case, and prints the ratio now /
before of the growth per meeting. The server before the Room (dc682de) keeps
every meeting it has loaded, ended or idle: this shows what the Room releases.

    python bench/room_memory.py                      # 500 meetings per case (~1 minute)
    python bench/room_memory.py --against dc682de    # both servers (~2 minutes)
    python bench/room_memory.py --quick              # 100 meetings per case
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from baseline import checkout, describe
from support.server import RunningServer

HERE = Path(__file__).resolve().parent
POLICY = {"entry": {"waiting_room": {"enabled": False}}}
CASES = {
    "ended": "ended by the host",
    "left": "everyone left, idle",
}
IDLE_ENV = "MEETWARDEN_ROOM_IDLE_SECONDS"


def database_kib(data_dir: Path) -> float:
    """The size of the files the server keeps in its data folder (SQLite, its WAL)."""
    return sum(f.stat().st_size for f in data_dir.iterdir() if f.is_file()) / 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def receive(
    socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Reads until a message matches; that message."""
    while True:
        message: dict[str, Any] = json.loads(await socket.recv())
        if wanted(message):
            return message


async def join(
    server: RunningServer, meeting_id: str, name: str, **fields: str
) -> ClientConnection:
    """A raw participant, admitted (the policy has no waiting room)."""
    socket = await websockets.connect(
        f"{server.ws_url}/ws/meetings/{meeting_id}", compression=None, open_timeout=30
    )
    await socket.send(json.dumps({"type": "join", "name": name, **fields}))
    reply = await receive(socket, lambda m: m["type"] in ("admitted", "waiting", "join_refused"))
    if reply["type"] != "admitted":
        raise RuntimeError(f"{name} was not admitted: {reply}")
    return socket


async def until_closed(socket: ClientConnection) -> None:
    """Reads what is left until the server closes the socket (after a goodbye or the end)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(30):
            async for _ in socket:
                pass
    await socket.close()


async def meeting(server: RunningServer, http: httpx.AsyncClient, case: str) -> None:
    """One meeting's life: created, a host and a guest in, then ended or left."""
    operator = {"Authorization": f"Bearer {server.api_key}"} if server.api_key else {}
    reply = await http.post(f"{server.url}/api/meetings", json={"policy": POLICY}, headers=operator)
    reply.raise_for_status()
    created = reply.json()
    meeting_id = created["meeting_id"]
    host = await join(server, meeting_id, "Alice Host", host_token=created["host_token"])
    guest = await join(server, meeting_id, "Bruno Guest")
    if case == "ended":
        await host.send(json.dumps({"type": "end_meeting", "id": 1}))
        await asyncio.gather(until_closed(host), until_closed(guest))
    else:
        await guest.send(json.dumps({"type": "leave", "id": 1}))
        await until_closed(guest)
        await host.send(json.dumps({"type": "leave", "id": 1}))
        await until_closed(host)


async def meetings(
    server: RunningServer,
    case: str,
    count: int,
    concurrency: int,
    on_done: Callable[[int], None] = lambda done: None,
) -> None:
    """``count`` meetings, ``concurrency`` at a time; ``on_done(n)`` after each."""
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one() -> None:
        nonlocal done
        async with gate:
            await meeting(server, http, case)
        done += 1
        on_done(done)

    async with httpx.AsyncClient(timeout=30) as http, asyncio.TaskGroup() as group:
        for _ in range(count):
            group.create_task(one())


async def objects(server: RunningServer, plain: bool) -> dict[str, int]:
    """The server's objects by type (after a full collection); empty with ``--plain``."""
    if plain:
        return {}
    async with httpx.AsyncClient(timeout=60) as http:
        reply = await http.get(f"{server.url}/bench/objects")
        reply.raise_for_status()
        counts: dict[str, int] = reply.json()["by_type"]
        return counts


async def allocations(server: RunningServer, mark: bool) -> list[dict[str, Any]]:
    """With ``--allocations``: the lines whose memory grew most since the mark."""
    async with httpx.AsyncClient(timeout=120) as http:
        reply = await http.get(f"{server.url}/bench/allocations", params={"mark": mark})
        reply.raise_for_status()
        grown: list[dict[str, Any]] = reply.json()["grown"]
        return grown


async def measure(case: str, pythonpath: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """One case on a fresh server: RSS (and objects) at the start, every ``--every``, settled."""
    data = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    env = {IDLE_ENV: str(args.idle_seconds)}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    if args.allocations:
        env["MEETWARDEN_BENCH_TRACEMALLOC"] = "1"
    command = None if args.plain else [sys.executable, str(HERE / "objects_server.py"), "serve"]
    server = RunningServer(data, env=env, command=command).start()
    assert server.process is not None
    pid = server.process.pid
    try:
        started = time.monotonic()
        await meetings(server, case, args.warmup, args.concurrency)
        await asyncio.sleep(args.settle)  # warm-up rooms released (idle time and sweep)
        objects_start = await objects(server, args.plain)
        if args.allocations:
            await allocations(server, mark=True)
        start, database_start = rss_kib(pid), database_kib(data)
        samples: list[tuple[int, int]] = []

        def sample(done: int) -> None:
            if done % args.every == 0:
                samples.append((done, rss_kib(pid)))

        run_started = time.monotonic()
        await meetings(server, case, args.meetings, args.concurrency, sample)
        run_seconds = time.monotonic() - run_started
        await asyncio.sleep(args.settle)  # the last rooms released (idle time and sweep)
        objects_settled = await objects(server, args.plain)
        grown_lines = await allocations(server, mark=False) if args.allocations else []
        settled = rss_kib(pid)
        grown = {
            name: objects_settled.get(name, 0) - objects_start.get(name, 0)
            for name in objects_start.keys() | objects_settled.keys()
        }
        return {
            "case": case,
            "start_kib": start,
            "samples": samples,
            "settled_kib": settled,
            "growth_per_meeting_kib": (settled - start) / args.meetings,
            "database_per_meeting_kib": (database_kib(data) - database_start) / args.meetings,
            "objects_per_meeting": sum(grown.values()) / args.meetings if grown else None,
            "objects_grown": dict(
                sorted(((k, n) for k, n in grown.items() if n > 0), key=lambda item: -item[1])[:8]
            ),
            "allocations_grown": grown_lines,
            "meetings_per_second": args.meetings / run_seconds,
            "seconds": time.monotonic() - started,
        }
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def _ratio(now: float, before: float) -> str:
    return f"{now / before:.2f}" if before > 0 else "n/a"


def report(results: dict[str, dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    sides = list(next(iter(results.values())))
    marks = [done for done, _ in next(iter(next(iter(results.values())).values()))["samples"]]
    print(
        f"server RSS in MiB over {args.meetings} meetings per case (a host and a guest each;"
        f" after {args.warmup} warm-up meetings; idle release after {args.idle_seconds:g} s;"
        f" settled {args.settle:g} s after the last):"
    )
    head = "".join(f" {'+' + str(m):>7}" for m in marks)
    print(
        f"   {'case':<20} {'server':<7} {'start':>7}{head} {'settled':>8}"
        f" {'KiB/meeting':>12} {'objects/meeting':>16} {'db KiB/meeting':>15} {'meetings/s':>11}"
    )
    for case, by_side in results.items():
        for side in sides:
            r = by_side[side]
            cells = "".join(f" {_mib(kib):>7}" for _, kib in r["samples"])
            kept = r["objects_per_meeting"]
            print(
                f"   {CASES[case]:<20} {side:<7} {_mib(r['start_kib']):>7}{cells}"
                f" {_mib(r['settled_kib']):>8} {r['growth_per_meeting_kib']:>12.1f}"
                f" {'-' if kept is None else f'{kept:.1f}':>16}"
                f" {r['database_per_meeting_kib']:>15.1f} {r['meetings_per_second']:>11.1f}"
            )
    if "before" in sides:
        for case, by_side in results.items():
            now, before = by_side["now"], by_side["before"]
            line = (
                f"   {CASES[case]}: RSS growth per meeting now {now['growth_per_meeting_kib']:.1f}"
                f" KiB, before {before['growth_per_meeting_kib']:.1f} KiB, now / before = "
                + _ratio(now["growth_per_meeting_kib"], before["growth_per_meeting_kib"])
            )
            if now["objects_per_meeting"] is not None:
                line += (
                    f"; objects kept per meeting now {now['objects_per_meeting']:.1f},"
                    f" before {before['objects_per_meeting']:.1f}"
                )
            print(line)
    if "left" in results:
        left = results["left"]["now"]
        kept = left["objects_per_meeting"]
        print(
            f"   now, everyone left: after the idle release the server is"
            f" {(left['settled_kib'] - left['start_kib']) / 1024:+.1f} MiB from its start"
            f" ({left['growth_per_meeting_kib']:.1f} KiB per meeting"
            + ("" if kept is None else f"; {kept:.1f} objects kept per meeting")
            + ")"
        )
    if not args.plain:
        print("   objects that grew most, settled - start (all meetings):")
        for case, by_side in results.items():
            for side in sides:
                grown = by_side[side]["objects_grown"]
                top = ", ".join(f"{name.rsplit('.', 1)[-1]} {n:+d}" for name, n in grown.items())
                top = top or "none"
                print(f"   {CASES[case]:<20} {side:<7} {top}")
    if args.allocations:
        print("   allocations that grew most, settled - start (traced: RSS above is inflated):")
        for case, by_side in results.items():
            for side in sides:
                print(f"   {CASES[case]}, {side}:")
                for line in by_side[side]["allocations_grown"][:6]:
                    print(
                        f"      {line['bytes'] / 1024:+9.1f} KiB {line['blocks']:+7d} blocks"
                        f"  {line['where']}"
                    )


async def main(args: argparse.Namespace) -> None:
    sides: dict[str, str | None] = {"now": None}
    if args.against:
        _source, pythonpath = checkout(args.against)
        sides["before"] = pythonpath
        print(f"before = {describe(args.against)}", flush=True)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for case in args.cases.split(","):
        results[case] = {}
        for side, pythonpath in sides.items():
            results[case][side] = await asyncio.wait_for(measure(case, pythonpath, args), 900)
            r = results[case][side]
            print(
                f"   ({CASES[case]}, {side}: {r['growth_per_meeting_kib']:.1f} KiB per meeting,"
                f" {r['seconds']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    report(results, args)
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 meetings per case")
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--every", type=int, default=100, help="read RSS every this many")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    parser.add_argument("--settle", type=float, help="seconds (default: twice the idle time + 2)")
    parser.add_argument("--cases", default="ended,left")
    parser.add_argument("--against", metavar="REF", help="also meetwarden at REF, e.g. dc682de")
    parser.add_argument("--plain", action="store_true", help="the meetwarden command: RSS only")
    parser.add_argument(
        "--allocations", action="store_true", help="also trace allocations (a diagnostic)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.meetings, arguments.every, arguments.warmup = 100, 50, 10
    if arguments.allocations and arguments.plain:
        parser.error("--allocations needs the counting server (not --plain)")
    if arguments.settle is None:
        arguments.settle = 2 * arguments.idle_seconds + 2
    asyncio.run(main(arguments))
