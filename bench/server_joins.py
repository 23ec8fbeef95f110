"""Joins per second through the waiting room, and host-action latency, beside a bare echo.

meetwarden runs as `meetwarden serve` in its own process (SQLite in a
temporary directory); the bots run in this process, on loopback, as raw
WebSocket clients (JSON text in and out, so that the figures are the server's
and not a client library's). Two measurements:

- joins: each bot connects, sends ``join``, waits in the waiting room, and
  counts once it reads ``admitted`` (``--no-waiting-room``: admitted on
  joining). Bots go to meetings of ``--meeting-size``
  (the roster every admission broadcasts grows with the meeting). Each
  meeting's host admits everyone waiting with ``admit_all``, at most 8 times
  a second (a socket's rate limit is 10 messages a second, so a host bot that
  admitted each bot one by one would be rate limited: this is how a bot host
  keeps up with a crowd). ``--concurrency`` bots are joining at any moment.
- host actions: in each of ``--action-meetings`` meetings a host alternately
  mutes and asks to unmute one participant. Two latencies per action: until
  the host reads the decision (``result``), and until the participant reads
  its effect (the ``notice``). One action at a time, paced so that no host
  sends more than 8 a second.

The baseline is a bare FastAPI WebSocket echo served by uvicorn in its own
process with the same uvicorn settings: connects per second (connect, one
echo, stay connected, at the same concurrency) and the echo round trip,
paced the same way. Both servers run at once and the rounds alternate
between them, so that a change in the machine's load reaches both alike;
rates are the median of the rounds, latencies pooled. Both servers' CPU time
is read from /proc, per join and per action. ``--pin`` puts the servers on
the first core and the bots on the others (on a quiet machine only).
``--against REF`` also runs meetwarden as it was at commit REF (``bench/baseline.py``)
in its own process, its rounds in turn with the others', and prints it beside the
current code: how a change moved the cost, in the same run and the same load.
The ratios taken round by round (meetwarden over the echo, and now over before) are
printed with their median and where that median falls in 90 % of resamplings of the
rounds: on a shared machine a change inside that range is not told from the noise.
``--workers N`` runs meetwarden as ``serve --workers N`` (its CPU is then the front
process's and every worker's).

    python bench/server_joins.py            # 3 rounds of 600 bots and 500 actions (~40 s)
    python bench/server_joins.py --quick    # 1 round of 150 bots and 200 actions (~8 s)
    python bench/server_joins.py --bots 1000 --meeting-size 100 --json out.json
    python bench/server_joins.py --bots 1200 --meeting-size 100 --against f5e33f9 --pin
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from baseline import checkout, describe
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from workers_server import children
from workers_server import cpu_seconds as process_cpu

PACE_PER_HOST = 1 / 8  # seconds between two messages of one host: under the 10/s limit
_LISTENING = re.compile(r"(?:Uvicorn|meetwarden) running on http://127\.0\.0\.1:(\d+)")
FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski", "Haddad", "Lund"]
# Every bot comes from one address: the waiting room's share per network is lifted.
OPEN_POLICY = {"entry": {"max_participants": 1000, "waiting_room": {"max_share_per_source": 100}}}
# --no-waiting-room: everyone is admitted on joining (the host admits nobody).
DIRECT_POLICY = {"entry": {"max_participants": 1000, "waiting_room": {"enabled": False}}}


# --- the two servers, each in its own process ------------------------------------------------


def echo_app() -> Any:
    """The baseline: a FastAPI WebSocket that sends back every text it receives."""
    app = FastAPI()

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return app


def serve_echo(port: int) -> None:
    """Runs the echo app the way `meetwarden serve` runs meetwarden (server/cli_serve.py)."""
    import uvicorn

    uvicorn.run(
        echo_app(),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        ws_max_size=64 * 1024,
        ws_max_queue=16,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_per_message_deflate=False,  # as meetwarden (server/serving.py)
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )


@dataclass
class Server:
    """A server process; its port is read from uvicorn's first lines."""

    args: list[str]
    log_path: Path
    cpu: int | None = None
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    operator: dict[str, str] = field(default_factory=dict)
    """Headers with the operator API key that creating a meeting needs (meetwarden only)."""
    env: dict[str, str] = field(
        default_factory=lambda: {
            "MEETWARDEN_MAX_SOCKETS_PER_ADDRESS": "100000",
            "MEETWARDEN_WORKERS": "1",
        }
    )
    """Set for the process on top of this one's: by default, every bot comes from
    127.0.0.1, one address, far past the sockets a real address may hold at once
    (server/door.py); and one process, as the echo is (the default is a worker per
    core, bench/workers.py compares those)."""

    def start(self, timeout: float = 60.0) -> Server:
        log = self.log_path.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env)
        if self.cpu is not None:
            os.sched_setaffinity(self.process.pid, {self.cpu})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            match = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(1))
                return self
            time.sleep(0.05)  # polling the log for the port line
        self.stop()
        raise RuntimeError(f"{self.args[0]} did not start:\n{self.log_path.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far (all its threads), and of
        its children (the workers of ``--workers N``, multiprocessing's resource tracker)."""
        assert self.process is not None
        pid = self.process.pid
        return process_cpu(pid) + sum(process_cpu(child) for child in children(pid))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


# --- measuring ---------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p99 and the mean, in milliseconds."""
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 3),
        "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
        "samples": len(values),
    }


async def connect(url: str) -> ClientConnection:
    return await websockets.connect(url, compression=None, open_timeout=30, max_size=2**22)


async def receive(
    socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Reads until a message matches; that message."""
    while True:
        message: dict[str, Any] = json.loads(await socket.recv())
        if wanted(message):
            return message


async def run_limited(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    """Runs the jobs with at most ``concurrency`` of them at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(one(job))


@dataclass
class Host:
    """A raw host socket that admits everyone waiting, at most once per PACE_PER_HOST."""

    socket: ClientConnection
    waiting: int = 0
    in_flight: bool = False
    last_sent: float = 0.0
    refused: list[dict[str, Any]] = field(default_factory=list)
    refs: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    async def admit_loop(self) -> None:
        wake = asyncio.Event()

        seen: set[str] = set()  # who is waiting, from the updates

        async def reader() -> None:
            async for text in self.socket:
                message = json.loads(text)
                if message["type"] == "waiting_list":
                    seen.clear()
                    seen.update(e["id"] for e in message["waiting"])
                    self.waiting = len(seen)
                    wake.set()
                elif message["type"] == "waiting_update":
                    seen.update(e["id"] for e in message["entries"])
                    seen.difference_update(message["removed"])
                    self.waiting = len(seen)
                    wake.set()
                elif message["type"] == "result":
                    self.in_flight = False
                    wake.set()
                elif message["type"] == "error":
                    self.refused.append(message)  # rate_limited would mean the pacing is off

        reading = asyncio.create_task(reader())
        try:
            while True:
                await wake.wait()
                wake.clear()
                if self.waiting and not self.in_flight:
                    pause = self.last_sent + PACE_PER_HOST - time.monotonic()
                    if pause > 0:
                        await asyncio.sleep(pause)  # the socket's rate limit, respected
                    if not self.waiting:
                        continue
                    self.in_flight, self.last_sent = True, time.monotonic()
                    await self.socket.send(json.dumps({"type": "admit_all", "id": next(self.refs)}))
        finally:
            reading.cancel()


async def new_meeting(
    server: Server, http: httpx.AsyncClient, waiting_room: bool = True
) -> tuple[str, ClientConnection]:
    """Creates a meeting and joins its host; the meeting id and the host's socket."""
    policy = OPEN_POLICY if waiting_room else DIRECT_POLICY
    created = (
        await http.post(
            f"{server.url}/api/meetings", json={"policy": policy}, headers=server.operator
        )
    ).json()
    host = await connect(f"{server.ws}/ws/meetings/{created['meeting_id']}")
    join = {"type": "join", "name": "Meeting Chair", "host_token": created["host_token"]}
    await host.send(json.dumps(join))
    await receive(host, lambda m: m["type"] == "admitted")
    return created["meeting_id"], host


def bot_name(number: int) -> str:
    first, rest = divmod(number, len(FIRST))
    return f"{FIRST[rest]} {LAST[first % len(LAST)]}{'a' * (first // len(LAST))}"


@dataclass
class Phase:
    """What one measurement saw: how many, in how long, the server's CPU, the latencies."""

    count: int
    seconds: float
    cpu: float
    latencies: dict[str, list[float]]


async def meetwarden_joins(
    server: Server, bots: int, meeting_size: int, concurrency: int, waiting_room: bool = True
) -> Phase:
    async with httpx.AsyncClient(timeout=30) as http:
        meetings = [
            await new_meeting(server, http, waiting_room)
            for _ in range(max(1, -(-bots // meeting_size)))
        ]
    hosts = [Host(socket) for _, socket in meetings]
    admitting = [asyncio.create_task(host.admit_loop()) for host in hosts]
    sockets: list[ClientConnection] = []
    latencies: list[float] = []
    draining: list[asyncio.Task[None]] = []

    async def drain(socket: ClientConnection) -> None:
        """Reads what an admitted bot is sent (rosters), as a client must, to keep it flowing."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in socket:
                pass

    def bot(number: int) -> Callable[[], Awaitable[None]]:
        meeting_id = meetings[number % len(meetings)][0]  # a crowd at every door at once

        async def run() -> None:
            started = time.perf_counter()
            socket = await connect(f"{server.ws}/ws/meetings/{meeting_id}")
            sockets.append(socket)
            await socket.send(json.dumps({"type": "join", "name": bot_name(number)}))
            if waiting_room:
                await receive(socket, lambda m: m["type"] == "waiting")
            await receive(socket, lambda m: m["type"] == "admitted")
            latencies.append(time.perf_counter() - started)
            draining.append(asyncio.create_task(drain(socket)))

        return run

    cpu, started = server.cpu_seconds(), time.perf_counter()
    await run_limited([bot(n) for n in range(bots)], concurrency)
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    for task in [*admitting, *draining]:
        task.cancel()
    for socket in [*sockets, *(socket for _, socket in meetings)]:
        await socket.close()
    refused = [message for host in hosts for message in host.refused]
    if refused:
        raise RuntimeError(f"hosts were refused {len(refused)} times, first: {refused[0]}")
    return Phase(bots, elapsed, cpu, {"join": latencies})


async def echo_connects(server: Server, connections: int, concurrency: int) -> Phase:
    sockets: list[ClientConnection] = []
    latencies: list[float] = []

    async def run() -> None:
        started = time.perf_counter()
        socket = await connect(f"{server.ws}/ws")
        sockets.append(socket)
        await socket.send(json.dumps({"type": "join", "name": "Ana Silva"}))
        await socket.recv()
        latencies.append(time.perf_counter() - started)

    cpu, started = server.cpu_seconds(), time.perf_counter()
    await run_limited([run for _ in range(connections)], concurrency)
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    for socket in sockets:
        await socket.close()
    return Phase(connections, elapsed, cpu, {"join": latencies})


async def paced(samples: int, interval: float, sample: Callable[[int], Awaitable[None]]) -> None:
    """One sample at a time, starting no more often than every ``interval`` seconds."""
    next_start = time.monotonic()
    for number in range(samples):
        pause = next_start - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)  # the pacing is part of the measurement
        next_start = time.monotonic() + interval
        await sample(number)


async def action_pairs(
    server: Server, meetings: int
) -> list[tuple[ClientConnection, ClientConnection, str]]:
    """In each meeting, a host and the participant it acts on (no waiting room)."""
    pairs = []
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(meetings):
            policy = {"entry": {"waiting_room": {"enabled": False}}}
            response = await http.post(
                f"{server.url}/api/meetings", json={"policy": policy}, headers=server.operator
            )
            created = response.json()
            url = f"{server.ws}/ws/meetings/{created['meeting_id']}"
            host, target = await connect(url), await connect(url)
            join = {"type": "join", "name": "Meeting Chair", "host_token": created["host_token"]}
            await host.send(json.dumps(join))
            await receive(host, lambda m: m["type"] == "admitted")
            await target.send(json.dumps({"type": "join", "name": "Bao Nguyen"}))
            welcome = await receive(target, lambda m: m["type"] == "welcome")
            await receive(target, lambda m: m["type"] == "admitted")
            pairs.append((host, target, welcome["participant_id"]))
    return pairs


async def meetwarden_actions(server: Server, samples: int, meetings: int) -> Phase:
    pairs = await action_pairs(server, meetings)
    decided: list[float] = []
    seen: list[float] = []

    async def sample(number: int) -> None:
        host, target, target_id = pairs[number % len(pairs)]
        kind, topic = (
            ("mute", "muted_by_host") if number % 2 else ("ask_to_unmute", "asked_to_unmute")
        )
        started = time.perf_counter()
        await host.send(json.dumps({"type": kind, "participant": target_id, "id": number + 1}))

        async def result() -> None:
            await receive(host, lambda m: m["type"] == "result" and m["ref"] == number + 1)
            decided.append(time.perf_counter() - started)

        async def effect() -> None:
            await receive(target, lambda m: m["type"] == "notice" and m["topic"] == topic)
            seen.append(time.perf_counter() - started)

        await asyncio.gather(result(), effect())

    cpu, started = server.cpu_seconds(), time.perf_counter()
    await paced(samples, PACE_PER_HOST / len(pairs), sample)
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    for host, target, _ in pairs:
        await host.close()
        await target.close()
    return Phase(samples, elapsed, cpu, {"result": decided, "seen": seen})


async def echo_round_trips(server: Server, samples: int, interval: float) -> Phase:
    socket = await connect(f"{server.ws}/ws")
    times: list[float] = []

    async def sample(number: int) -> None:
        started = time.perf_counter()
        await socket.send(json.dumps({"type": "mute", "participant": "p_x", "id": number}))
        await socket.recv()
        times.append(time.perf_counter() - started)

    cpu, started = server.cpu_seconds(), time.perf_counter()
    await paced(samples, interval, sample)
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    await socket.close()
    return Phase(samples, elapsed, cpu, {"result": times, "seen": times})


# --- the run -------------------------------------------------------------------------------


def combine(phases: list[Phase]) -> dict[str, Any]:
    """Rounds together: the median rate, CPU per item over all, latencies pooled."""
    return {
        "per_second": round(statistics.median(p.count / p.seconds for p in phases), 1),
        "rounds_per_second": [round(p.count / p.seconds, 1) for p in phases],
        "rounds_cpu_ms_each": [round(p.cpu / p.count * 1000, 3) for p in phases],
        "server_cpu_ms_each": round(
            sum(p.cpu for p in phases) / sum(p.count for p in phases) * 1000, 3
        ),
        **{
            name: summary([value for p in phases for value in p.latencies[name]])
            for name in phases[0].latencies
        },
    }


def operator_headers(cli: str, data_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """An operator API key for meetwarden (creating a meeting needs one), as headers."""
    key = subprocess.run(
        [cli, "keys", "create", "--name", "bench", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    ).stdout.strip()
    return {"Authorization": f"Bearer {key}"}


async def measure(arguments: argparse.Namespace, directory: Path) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu = cpus[0] if len(cpus) >= 2 and arguments.pin else None
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus[1:]))
    meetwarden_cli = str(Path(sys.executable).with_name("meetwarden"))
    meetwarden = Server(
        [meetwarden_cli, "serve", "--port", "0", "--data-dir", str(directory / "data")],
        directory / "meetwarden.log",
        server_cpu,
    )
    meetwarden.env["MEETWARDEN_WORKERS"] = str(arguments.workers)
    meetwarden.operator = operator_headers(meetwarden_cli, directory / "data")
    echo = Server([sys.executable, __file__, "--serve-echo"], directory / "echo.log", server_cpu)
    before: Server | None = None
    if arguments.against:
        before = Server(
            [meetwarden_cli, "serve", "--port", "0", "--data-dir", str(directory / "before")],
            directory / "before.log",
            server_cpu,
        )
        before.env["PYTHONPATH"] = checkout(arguments.against)[1]
        before.env["MEETWARDEN_WORKERS"] = str(arguments.workers)
        before.operator = operator_headers(meetwarden_cli, directory / "before", before.env)
    interval = PACE_PER_HOST / arguments.action_meetings
    phases: dict[str, list[Phase]] = {
        "joins": [],
        "connects": [],
        "actions": [],
        "echoes": [],
        "before_joins": [],
        "before_actions": [],
    }
    servers = [server for server in (meetwarden, echo, before) if server is not None]
    try:
        for server in servers:
            server.start()
        # Rounds alternate between the servers, so that a change in the machine's
        # load while the benchmark runs reaches every side alike.
        for _ in range(arguments.rounds):
            bots, concurrency, size = arguments.bots, arguments.concurrency, arguments.meeting_size
            waiting = not arguments.no_waiting_room
            phases["joins"].append(
                await meetwarden_joins(meetwarden, bots, size, concurrency, waiting)
            )
            phases["connects"].append(await echo_connects(echo, bots, concurrency))
            if before is not None:
                phases["before_joins"].append(
                    await meetwarden_joins(before, bots, size, concurrency, waiting)
                )
            phases["actions"].append(
                await meetwarden_actions(meetwarden, arguments.samples, arguments.action_meetings)
            )
            phases["echoes"].append(await echo_round_trips(echo, arguments.samples, interval))
            if before is not None:
                phases["before_actions"].append(
                    await meetwarden_actions(before, arguments.samples, arguments.action_meetings)
                )
    finally:
        for server in servers:
            server.stop()
    compared = {}
    if before is not None:
        compared = {
            "before": {
                "commit": describe(arguments.against),
                "joins": combine(phases["before_joins"]),
                "actions": combine(phases["before_actions"]),
            }
        }
    return {
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "bots": arguments.bots,
        "concurrency": arguments.concurrency,
        "meeting_size": arguments.meeting_size,
        "rounds": arguments.rounds,
        "pinned": server_cpu is not None,
        "workers": arguments.workers,
        "meetwarden": {"joins": combine(phases["joins"]), "actions": combine(phases["actions"])},
        "baseline": {"connects": combine(phases["connects"]), "echo": combine(phases["echoes"])},
        **compared,
    }


def report(results: dict[str, Any], command: str) -> None:
    joins, actions = results["meetwarden"]["joins"], results["meetwarden"]["actions"]
    connects, echo = results["baseline"]["connects"], results["baseline"]["echo"]
    rows = [
        ("joins per second (median of rounds)", joins["per_second"], connects["per_second"]),
        ("  join latency p50 ms", joins["join"]["p50_ms"], connects["join"]["p50_ms"]),
        ("  join latency p99 ms", joins["join"]["p99_ms"], connects["join"]["p99_ms"]),
        ("  server CPU ms per join", joins["server_cpu_ms_each"], connects["server_cpu_ms_each"]),
        ("host action -> result p50 ms", actions["result"]["p50_ms"], echo["result"]["p50_ms"]),
        ("host action -> result p99 ms", actions["result"]["p99_ms"], echo["result"]["p99_ms"]),
        ("host action -> target sees it p50 ms", actions["seen"]["p50_ms"], echo["seen"]["p50_ms"]),
        ("host action -> target sees it p99 ms", actions["seen"]["p99_ms"], echo["seen"]["p99_ms"]),
        ("  server CPU ms per action", actions["server_cpu_ms_each"], echo["server_cpu_ms_each"]),
    ]
    print(f"$ {command}")
    print(
        f"{results['bots']} bots in meetings of {results['meeting_size']}, "
        f"{results['concurrency']} joining at once; {actions['result']['samples']} host actions; "
        f"{results['rounds']} rounds; {'pinned' if results['pinned'] else 'not pinned'}"
    )
    print(f"machine load average (1, 5, 15 min) at the end: {results['load_average_at_end']}")
    print(
        f"joins per second by round: meetwarden {joins['rounds_per_second']}, "
        f"echo {connects['rounds_per_second']}"
    )
    print(
        f"server CPU ms per join by round: meetwarden {joins['rounds_cpu_ms_each']}, "
        f"echo {connects['rounds_cpu_ms_each']}"
    )
    # Each round's joins and the echo's connects run one right after the other: their
    # ratio is the least touched by the machine's load changing between rounds. The
    # table's ratio pools every round (a busy moment in one round moves it).
    paired = [
        round(ours / theirs, 2)
        for ours, theirs in zip(
            joins["rounds_cpu_ms_each"], connects["rounds_cpu_ms_each"], strict=True
        )
        if theirs
    ]
    if paired:
        low, high = spread(paired)
        print(
            f"server CPU per join x echo, round by round: {paired}, "
            f"median {statistics.median(paired):.2f} (resampled: {low:.2f} to {high:.2f})"
        )
    print(f"{'':40} {'meetwarden':>11} {'echo baseline':>14} {'ratio':>7}")
    for label, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("nan")
        print(f"{label:40} {ours:>11} {theirs:>14} {ratio:>7.2f}")
    if "before" in results:
        report_before(results)


def spread(ratios: list[float], draws: int = 2000) -> tuple[float, float]:
    """Where the median of ``ratios`` falls in 90 % of resamplings of the rounds (with
    replacement, seeded): how much the median owes to which rounds a run happened to
    get. Rounds differ by several percent on a shared machine, so a change smaller than
    this spread is not told apart from the noise by one run."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def report_before(results: dict[str, Any]) -> None:
    """The current code beside the commit of ``--against``, and each beside the echo."""
    now, before = results["meetwarden"], results["before"]
    echo = results["baseline"]["connects"]["server_cpu_ms_each"]
    print(f"\nbefore = {before['commit']}")
    print(
        f"server CPU ms per join by round: before {before['joins']['rounds_cpu_ms_each']}, "
        f"joins per second {before['joins']['rounds_per_second']}"
    )
    print(f"{'':40} {'meetwarden':>11} {'before':>11} {'now/before':>11}")
    rows = [
        ("joins per second (median of rounds)", "joins", "per_second"),
        ("  server CPU ms per join", "joins", "server_cpu_ms_each"),
        ("  server CPU per join, x echo", "joins", "x_echo"),
        ("  server CPU ms per action", "actions", "server_cpu_ms_each"),
    ]
    for label, phase, key in rows:
        if key == "x_echo":
            ours = round(now[phase]["server_cpu_ms_each"] / echo, 2)
            theirs = round(before[phase]["server_cpu_ms_each"] / echo, 2)
        else:
            ours, theirs = now[phase][key], before[phase][key]
        ratio = ours / theirs if theirs else float("nan")
        print(f"{label:40} {ours:>11} {theirs:>11} {ratio:>11.2f}")
    # The servers take their rounds in turns, so round i of each met the same moment of
    # the machine: their ratios, round by round, are what a change moved.
    paired = [
        ours / theirs
        for ours, theirs in zip(
            now["joins"]["rounds_cpu_ms_each"], before["joins"]["rounds_cpu_ms_each"], strict=True
        )
        if theirs
    ]
    if paired:
        low, high = spread(paired)
        print(
            f"server CPU per join now/before, round by round: median "
            f"{statistics.median(paired):.2f} (resampled: {low:.2f} to {high:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bots", type=int, default=600)
    parser.add_argument("--meeting-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--samples", type=int, default=500, help="host actions per round")
    parser.add_argument("--action-meetings", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--quick", action="store_true", help="1 round: 150 bots, 200 actions")
    parser.add_argument("--max-seconds", type=float, default=300, help="give up after this")
    parser.add_argument(
        "--pin", action="store_true", help="servers on the first core, the bots on the others"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--against", metavar="REF", help="also meetwarden at REF, e.g. f5e33f9")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="meetwarden's `serve --workers N` (default 1, one process as the echo is)",
    )
    parser.add_argument(
        "--no-waiting-room",
        action="store_true",
        help="bots are admitted on joining (the meetings have no waiting room)",
    )
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_echo:
        serve_echo(0)
        return
    if arguments.quick:
        arguments.bots, arguments.samples, arguments.rounds = 150, 200, 1
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory(prefix="meetwarden-bench-") as directory:
        try:
            results = asyncio.run(
                asyncio.wait_for(measure(arguments, Path(directory)), arguments.max_seconds)
            )
        except BaseException:
            for log in sorted(Path(directory).glob("*.log")):
                print(f"--- the end of {log.name}:\n{log.read_text(errors='replace')[-3000:]}")
            raise
    report(results, "python " + " ".join(sys.argv))
    if arguments.json:
        results["command"] = "python " + " ".join(sys.argv)
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
