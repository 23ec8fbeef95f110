"""A webinar filling up: viewers wait, the host admits them all at once; beside a baseline.

One meeting with a webinar's policy (waiting room on, viewers muted and unable to
unmute, chat and screen sharing for hosts only; ``max_participants`` at its ceiling
of 1000, the host included, so 999 viewers fill it). Each viewer is a raw WebSocket
client (JSON text, skipped unparsed where it can be, so that the figures are the
server's) joining from a loopback address of its own (``127.1.N.M``: every address
in 127.0.0.0/8 is this machine, and the door lets one address hold only 100
sockets), ``--concurrency`` of them joining at any moment. The run has two phases:

- waiting: every viewer connects, sends ``join`` and reads ``waiting`` (the host
  reads a ``waiting_update`` for each);
- admission: once the host's waiting list holds every viewer, the host sends one
  ``admit_all``; seconds until every viewer has read ``admitted`` (its roster has
  everyone) and until the host has read the ``result``.

Both phases report wall seconds and the server's CPU seconds (user plus system,
from /proc). The baseline, in the same run, is a bare FastAPI WebSocket echo
(bench/server_joins.py's, under the same uvicorn settings) that the same viewers
connect to from the same addresses, each sending its ``join`` and reading the
echo. ``--against REF`` also runs meetwarden as it was at commit REF
(bench/baseline.py) through the same two phases. Rounds alternate between the
servers, so that a change in the machine's load reaches them alike; the report
gives the median of the rounds.

    python bench/webinar_admit.py                       # 999 viewers, 1 round (~1 min)
    python bench/webinar_admit.py --against d1d464f --rounds 3
    python bench/webinar_admit.py --viewers 300 --quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from baseline import checkout, describe
from server_joins import Server, operator_headers
from websockets.asyncio.client import ClientConnection

WEBINAR = {
    "name": "Webinar",
    "entry": {"max_participants": 1000, "waiting_room": {"enabled": True}},
    "audio": {"mute_on_entry": True, "unmute": "host_only"},
    "screen_share": {"allowed": "host_only", "max_concurrent": 1},
    "chat": {"allowed": "host_only"},
}
PER_NETWORK = 50
"""Viewers per /24 (127.1.N.0): well under the waiting room's share of one network."""
TIMEOUT = 120.0
HERE = Path(__file__).resolve().parent


def address(number: int) -> str:
    network, host = divmod(number, PER_NETWORK)
    return f"127.1.{network}.{host + 1}"


def viewer_name(number: int) -> str:
    first = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
    last = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski", "Haddad", "Lund"]
    a, b = divmod(number, len(first))
    return f"{first[b]} {last[a % len(last)]}{'a' * (a // len(last))}"


def kind(text: str | bytes) -> str:
    """A message's type without parsing it all (the server writes ``type`` first)."""
    text = text if isinstance(text, str) else text.decode()
    if text.startswith('{"type":"'):
        return text[9 : text.find('"', 9)]
    return str(json.loads(text).get("type"))


async def connect(url: str, local: str) -> ClientConnection:
    return await websockets.connect(
        url, compression=None, open_timeout=TIMEOUT, max_size=2**24, local_addr=(local, 0)
    )


async def read_until(socket: ClientConnection, wanted: str) -> str:
    while True:
        text = await socket.recv()
        if kind(text) == wanted:
            return text if isinstance(text, str) else text.decode()


@dataclass
class Phases:
    waiting_s: float
    waiting_cpu_s: float
    admit_s: float
    admit_cpu_s: float
    host_result_s: float
    roster_size: int


async def limited(count: int, concurrency: int, job: Any) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(number: int) -> Any:
        async with gate:
            return await job(number)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


class Host:
    """The host's socket: counts who waits, from ``waiting_list`` and ``waiting_update``."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.waiting: set[str] = set()
        self.changed = asyncio.Event()
        self.result: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.socket:
                what = kind(text)
                if what in {"waiting_list", "waiting_update", "result"}:
                    message = json.loads(text)
                    if what == "waiting_list":
                        self.waiting = {entry["id"] for entry in message["waiting"]}
                    elif what == "waiting_update":
                        self.waiting.update(entry["id"] for entry in message["entries"])
                        self.waiting.difference_update(message["removed"])
                    elif not self.result.done():
                        self.result.set_result(time.perf_counter())
                    self.changed.set()

    async def until_waiting(self, count: int) -> None:
        while len(self.waiting) < count:
            self.changed.clear()
            await self.changed.wait()


async def webinar(server: Server, viewers: int, concurrency: int) -> Phases:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        created = (
            await http.post(
                f"{server.url}/api/meetings", json={"policy": WEBINAR}, headers=server.operator
            )
        ).json()
    url = f"{server.ws}/ws/meetings/{created['meeting_id']}"
    host_socket = await connect(url, "127.0.0.1")
    await host_socket.send(
        json.dumps({"type": "join", "name": "Webinar Host", "host_token": created["host_token"]})
    )
    await read_until(host_socket, "admitted")
    host = Host(host_socket)

    async def wait(number: int) -> ClientConnection:
        socket = await connect(url, address(number))
        await socket.send(json.dumps({"type": "join", "name": viewer_name(number)}))
        await read_until(socket, "waiting")
        return socket

    cpu, started = server.cpu_seconds(), time.perf_counter()
    sockets = await limited(viewers, concurrency, wait)
    await host.until_waiting(viewers)
    waiting_s, waiting_cpu = time.perf_counter() - started, server.cpu_seconds() - cpu

    cpu, started = server.cpu_seconds(), time.perf_counter()
    await host_socket.send(json.dumps({"type": "admit_all", "id": 1}))
    admitted = await asyncio.gather(*(read_until(socket, "admitted") for socket in sockets))
    admit_s, admit_cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    host_result_s = await host.result - started
    roster_size = len(json.loads(admitted[-1])["roster"])
    host.reading.cancel()
    await asyncio.gather(*(s.close() for s in [*sockets, host_socket]))
    return Phases(waiting_s, waiting_cpu, admit_s, admit_cpu, host_result_s, roster_size)


async def echo(server: Server, viewers: int, concurrency: int) -> Phases:
    """The same viewers, from the same addresses, each sending its join to the echo."""

    async def once(number: int) -> ClientConnection:
        socket = await connect(f"{server.ws}/ws", address(number))
        await socket.send(json.dumps({"type": "join", "name": viewer_name(number)}))
        await socket.recv()
        return socket

    cpu, started = server.cpu_seconds(), time.perf_counter()
    sockets = await limited(viewers, concurrency, once)
    seconds, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    await asyncio.gather(*(s.close() for s in sockets))
    return Phases(seconds, cpu, 0.0, 0.0, 0.0, 0)


def meetwarden_server(directory: Path, name: str, pythonpath: str | None) -> Server:
    """`meetwarden serve` (this tree's, or the past commit's through ``pythonpath``),
    with the door's limits as they are: the viewers come from many addresses."""
    cli = str(Path(sys.executable).with_name("meetwarden"))
    data = directory / name
    server = Server(
        [cli, "serve", "--port", "0", "--data-dir", str(data)],
        directory / f"{name}.log",
        # One process, as the echo is; a past commit without workers ignores it.
        env={"MEETWARDEN_WORKERS": "1", **({"PYTHONPATH": pythonpath} if pythonpath else {})},
    )
    server.operator = operator_headers(cli, data)
    return server.start()


async def measure(arguments: argparse.Namespace, directory: Path) -> dict[str, Any]:
    servers: dict[str, Server] = {}
    rounds: dict[str, list[Phases]] = {}
    try:
        servers["now"] = meetwarden_server(directory, "now", None)
        if arguments.against:
            _, pythonpath = checkout(arguments.against)
            servers["before"] = meetwarden_server(directory, "before", pythonpath)
        servers["echo"] = Server(
            [sys.executable, str(HERE / "server_joins.py"), "--serve-echo"],
            directory / "echo.log",
        ).start()
        for _ in range(arguments.rounds):
            for name, server in servers.items():
                run = echo if name == "echo" else webinar
                phases = await run(server, arguments.viewers, arguments.concurrency)
                rounds.setdefault(name, []).append(phases)
                print(f"  {name}: {phases}", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return {
        "viewers": arguments.viewers,
        "concurrency": arguments.concurrency,
        "rounds": arguments.rounds,
        "before_commit": describe(arguments.against) if arguments.against else None,
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "servers": {
            name: {
                field: round(statistics.median(getattr(p, field) for p in phases), 3)
                for field in Phases.__dataclass_fields__
            }
            for name, phases in rounds.items()
        },
    }


def report(results: dict[str, Any], command: str) -> None:
    print(f"$ {command}")
    print(
        f"{results['viewers']} viewers, {results['concurrency']} joining at once, "
        f"median of {results['rounds']} round(s); load average at the end "
        f"{results['load_average_at_end']}"
    )
    if results["before_commit"]:
        print(f"before = {results['before_commit']}")
    servers, viewers = results["servers"], results["viewers"]
    echo = servers["echo"]
    print(
        f"{'':10} {'waiting s':>10} {'CPU s':>7} {'ms/join':>8} {'x echo':>7}   "
        f"{'admit_all s':>11} {'CPU s':>7} {'result s':>8} {'roster':>6}"
    )
    for name, row in servers.items():
        per_join = row["waiting_cpu_s"] / viewers * 1000
        ratio = row["waiting_cpu_s"] / echo["waiting_cpu_s"] if echo["waiting_cpu_s"] else 0
        admit = (
            ""
            if name == "echo"
            else (
                f"{row['admit_s']:>11.3f} {row['admit_cpu_s']:>7.3f} "
                f"{row['host_result_s']:>8.3f} {row['roster_size']:>6}"
            )
        )
        print(
            f"{name:10} {row['waiting_s']:>10.3f} {row['waiting_cpu_s']:>7.3f} "
            f"{per_join:>8.3f} {ratio:>7.2f}   {admit}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=999)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--against", metavar="REF", help="also meetwarden at this commit")
    parser.add_argument("--quick", action="store_true", help="300 viewers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.viewers = 300
    if arguments.viewers > 999:
        parser.error("a meeting admits at most 1000 people (entry.max_participants), the host too")
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    command = "python " + " ".join(sys.argv)
    with tempfile.TemporaryDirectory(prefix="meetwarden-webinar-") as directory:
        try:
            results = asyncio.run(asyncio.wait_for(measure(arguments, Path(directory)), 900))
        except BaseException:
            for log in sorted(Path(directory).glob("*.log")):
                print(f"--- the end of {log.name}:\n{log.read_text(errors='replace')[-3000:]}")
            raise
    report(results, command)
    if arguments.json:
        results["command"] = command
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
