"""Honest joins to a password-protected meeting, with and without a guessing flood.

Part of bench/load.py (measurement 3). The meeting has no waiting room and its
host stays in. Honest guests keep joining with the right password, each join
from an address of its own, and leave once admitted; the host keeps rejoining
with its host token from 127.0.0.1, now and then. With the flood, the attacker
(``load_flood.py``, its own process) guesses at the same meeting meanwhile,
from many addresses and from 127.0.0.1, the host's own address.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from load_people import join, join_and_leave

from meetwarden.client_sdk import HostAPI

if TYPE_CHECKING:
    from support.server import RunningServer  # tests/support, on the path bench/load.py sets

__all__ = ["HOST_ADDRESS", "JoinPhase", "joins", "joins_summary", "percentile"]

PASSWORD = "correct horse battery staple"
HOST_ADDRESS = "127.0.0.1"
GUEST_NAMES = ["Ana Silva", "Bao Nguyen", "Chen Okafor", "Dara Schmidt", "Emil Tanaka"]
PROTECTED = {
    "entry": {"password": True, "waiting_room": {"enabled": False}, "max_participants": 50}
}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class JoinPhase:
    """One phase's joins: (answer, seconds it took, done within the window) each."""

    flood: bool
    window: float
    seconds: float = 0.0
    """From the start until the last join started in the window is done."""
    cpu: float = 0.0
    guests: list[tuple[str, float, bool]] = field(default_factory=list)
    hosts: list[tuple[str, float, bool]] = field(default_factory=list)
    host_notices: Counter[str] = field(default_factory=Counter)
    attack: dict[str, Any] = field(default_factory=dict)


async def start_flood(
    server: RunningServer, meeting_id: str, block: int, arguments: argparse.Namespace
) -> asyncio.subprocess.Process:
    """The attacker's process, guessing once it says so; at the meeting, or with
    ``--attack-target unknown`` at an id of the same shape that names nothing."""
    target = meeting_id if arguments.attack_target == "meeting" else secrets.token_urlsafe(16)
    flood = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("load_flood.py")),
        *("--ws", server.ws_url),
        f"--meeting={target}",  # an id may start with "-"
        *("--first-address", f"127.{16 + block}.0.1"),
        *("--addresses", str(arguments.attack_addresses)),
        *("--concurrency", str(arguments.attack_concurrency)),
        *("--one-address", HOST_ADDRESS),
        *("--one-address-concurrency", str(arguments.one_address_concurrency)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert flood.stdout is not None
    line = await flood.stdout.readline()
    if line.strip() != b"flooding":
        raise RuntimeError(f"the attacker did not start: {line!r}")
    return flood


async def stop_flood(flood: asyncio.subprocess.Process) -> dict[str, Any]:
    assert flood.stdin is not None
    assert flood.stdout is not None
    flood.stdin.close()
    report: dict[str, Any] = json.loads(await flood.stdout.read())
    await flood.wait()
    return report


async def joins(
    server: RunningServer,
    flood: bool,
    block: int,
    guest_addresses: Iterator[str],
    cpu_seconds: Callable[[], float],
    arguments: argparse.Namespace,
) -> JoinPhase:
    """One phase: a new meeting, honest joins for ``--phase-seconds``, the flood or not."""
    created = await HostAPI.create_meeting(server.url, PROTECTED, PASSWORD, api_key=server.api_key)
    meeting_id, host_token = created.meeting_id, created.host_token
    # The host stays in throughout (it hears the notices), and also keeps rejoining.
    host = await join(
        server.ws_url, meeting_id, HOST_ADDRESS, "Meeting Chair", host_token=host_token
    )
    phase = JoinPhase(flood, arguments.phase_seconds)
    attacker = await start_flood(server, meeting_id, block, arguments) if flood else None
    cpu, started = cpu_seconds(), time.perf_counter()
    deadline = started + arguments.phase_seconds

    async def guest(number: int) -> None:
        while time.perf_counter() < deadline:
            name = GUEST_NAMES[number % len(GUEST_NAMES)]
            address = next(guest_addresses)
            answer, took = await join_and_leave(
                server.ws_url, meeting_id, address, name, password=PASSWORD
            )
            phase.guests.append((answer, took, time.perf_counter() <= deadline))

    async def rejoining_host() -> None:
        for number in itertools.count():
            pause = started + number * arguments.host_every - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)  # a host rejoining now and then, not a flood of its own
            if time.perf_counter() >= deadline:
                return
            answer, took = await join_and_leave(
                server.ws_url, meeting_id, HOST_ADDRESS, "Meeting Chair", host_token=host_token
            )
            phase.hosts.append((answer, took, time.perf_counter() <= deadline))

    try:
        await asyncio.gather(*(guest(n) for n in range(arguments.guests)), rejoining_host())
        phase.seconds, phase.cpu = time.perf_counter() - started, cpu_seconds() - cpu
    finally:
        if attacker is not None:
            phase.attack = await stop_flood(attacker)
    phase.host_notices = host.notices
    if host.closed:
        phase.host_notices[f"(the host's socket was closed: {host.close_reason})"] += 1
    await host.socket.close()
    return phase


def joins_summary(phases: list[JoinPhase]) -> dict[str, Any]:
    """The phases of one kind together: rates are the joins done within the windows over
    the windows' time; latencies pooled over every join; CPU over the whole phases."""
    window = sum(phase.window for phase in phases)
    seconds = sum(phase.seconds for phase in phases)
    figures: dict[str, Any] = {"phases": len(phases), "seconds": round(window, 3)}
    for who in ("guests", "hosts"):
        outcomes = [outcome for phase in phases for outcome in getattr(phase, who)]
        admitted = [took for answer, took, _ in outcomes if answer == "admitted"]
        in_window = sum(1 for answer, _, inside in outcomes if answer == "admitted" and inside)
        figures[who] = {
            "joins": len(admitted),
            "per_second": round(in_window / window, 2),
            "p50_ms": round(percentile(admitted, 0.5) * 1000, 1),
            "p99_ms": round(percentile(admitted, 0.99) * 1000, 1),
            "refused": dict(Counter(answer for answer, _, _ in outcomes if answer != "admitted")),
        }
    figures["server_cores"] = round(sum(phase.cpu for phase in phases) / seconds, 3)
    figures["host_notices"] = dict(sum((phase.host_notices for phase in phases), Counter()))
    attack: dict[str, Any] = {}
    for crowd in {name for phase in phases for name in phase.attack}:
        reports = [phase.attack[crowd] for phase in phases if crowd in phase.attack]
        answers = sum((Counter(report["answers"]) for report in reports), Counter())
        times = [value for report in reports for value in report["times"]]
        crowd_seconds = sum(report["seconds"] for report in reports)
        attack[crowd] = {
            "concurrency": reports[0]["concurrency"],
            "answered": len(times),
            "answered_per_second": round(len(times) / crowd_seconds, 1),
            "answers": dict(answers.most_common()),
            "p50_ms": round(percentile(times, 0.5) * 1000, 1),
            "p99_ms": round(percentile(times, 0.99) * 1000, 1),
        }
    if attack:
        figures["attack"] = attack
    return figures
