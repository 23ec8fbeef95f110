"""How long a refused join takes: a real password-protected meeting beside an unknown id.

A prober who times refusals must not learn which meeting ids are real. This
measures, on the same server and interleaved join by join, the time from
sending ``join`` to reading ``join_refused`` for:

- a live, password-protected meeting (its host is in), joined with no password
  and with a wrong one;
- an id of the same shape that names nothing, joined the same two ways.

Each join comes from its own loopback address (127.x.y.z: all of 127/8 is this
machine), so no attempt budget is involved: every join is a first guess from a
clean address. The socket is opened before the clock starts (the handshake is
not the refusal). The real meeting is replaced every 12 rounds, so that a
server whose meeting budget counts every address (before the budgets of
``server/runtime/attempts.py``) does not start answering ``too_many_attempts``.

``--against REF`` runs meetwarden at REF (``bench/baseline.py``) beside the
current code, the two servers taking turns round by round so that the
machine's load reaches both alike.

    python bench/join_timing.py                    # 120 rounds (~1 min)
    python bench/join_timing.py --rounds 40 --against 22841f4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from baseline import checkout, describe
from support.server import RunningServer

PASSWORD = "correct horse battery"
POLICY = {"entry": {"password": True}}
KINDS = {"no password": {}, "wrong password": {"password": "a wrong guess"}}
ROUNDS_PER_MEETING = 12


def addresses() -> Iterator[str]:
    for b in range(1, 255):
        for c in range(0, 255):
            for d in range(1, 255):
                yield f"127.{b}.{c}.{d}"


class Side:
    """One server, its live protected meeting, and the times it took to refuse."""

    def __init__(self, name: str, pythonpath: str | None) -> None:
        env = {"PYTHONPATH": pythonpath} if pythonpath else {}
        self.name = name
        self.server = RunningServer(Path(tempfile.mkdtemp(prefix="mw-bench-")), env=env)
        self.host: websockets.ClientConnection | None = None
        self.meeting_id = ""
        self.times: dict[tuple[str, str], list[float]] = {
            (kind, target): [] for kind in KINDS for target in ("real", "unknown")
        }
        self.answers: dict[tuple[str, str], set[str]] = {key: set() for key in self.times}

    async def new_meeting(self) -> None:
        if self.host is not None:
            await self.host.close()
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as http:
            reply = await http.post("/api/meetings", json={"policy": POLICY, "password": PASSWORD})
            reply.raise_for_status()
            created = reply.json()
        self.meeting_id = created["meeting_id"]
        self.host = await websockets.connect(
            f"{self.server.ws_url}/ws/meetings/{self.meeting_id}", compression=None
        )
        await self.host.send(
            json.dumps({"type": "join", "name": "Alice Chen", "host_token": created["host_token"]})
        )
        while json.loads(await self.host.recv())["type"] != "admitted":
            pass

    async def refusal(self, kind: str, target: str, address: str) -> None:
        meeting_id = self.meeting_id if target == "real" else secrets.token_urlsafe(16)
        socket = await websockets.connect(
            f"{self.server.ws_url}/ws/meetings/{meeting_id}",
            compression=None,
            local_addr=(address, 0),
        )
        message = json.dumps({"type": "join", "name": "Bob Smith", **KINDS[kind]})
        started = time.perf_counter()
        await socket.send(message)
        answer = json.loads(await socket.recv())
        self.times[(kind, target)].append(time.perf_counter() - started)
        self.answers[(kind, target)].add(answer.get("reason", answer["type"]))
        await socket.close()


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def report(sides: list[Side]) -> None:
    print()
    print(f"{'':24}{'real p50':>10}{'unknown p50':>13}{'ratio':>8}{'real p90':>10}{'unk. p90':>10}")
    for side in sides:
        print(f"{side.name}")
        for kind in KINDS:
            real, unknown = side.times[(kind, "real")], side.times[(kind, "unknown")]
            (real50, real90), (unknown50, unknown90) = summary(real), summary(unknown)
            print(
                f"  {kind:22}{real50:9.2f} {unknown50:11.2f}  {real50 / unknown50:7.2f}"
                f"{real90:9.2f} {unknown90:9.2f}   (ms)"
            )
            answers = side.answers[(kind, "real")] | side.answers[(kind, "unknown")]
            print(
                f"  {'':22}answers: real {sorted(side.answers[(kind, 'real')])},"
                f" unknown {sorted(side.answers[(kind, 'unknown')])}"
                + ("" if len(answers) == 1 else "  <- they differ")
            )


async def main(args: argparse.Namespace) -> None:
    sides = [Side("now", None)]
    if args.against:
        _source, pythonpath = checkout(args.against)
        sides.append(Side(f"before ({describe(args.against)[:50]})", pythonpath))
    source = addresses()
    try:
        for side in sides:
            side.server.start()
        for number in range(args.rounds):
            for side in sides:
                if number % ROUNDS_PER_MEETING == 0:
                    await side.new_meeting()
                for kind in KINDS:
                    for target in ("real", "unknown") if number % 2 else ("unknown", "real"):
                        await side.refusal(kind, target, next(source))
        report(sides)
    finally:
        for side in sides:
            side.server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--against", metavar="REF", help="also meetwarden at REF, e.g. 22841f4")
    asyncio.run(main(parser.parse_args()))
