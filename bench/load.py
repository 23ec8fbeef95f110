"""Load held with nothing lost: connections, chat messages per second, joins under a flood.

One `meetwarden serve` process (SQLite in a temporary directory, the door's
limits as shipped); the honest clients run in this process as raw WebSocket
clients (JSON in and out, ``load_people.py``), and the attacker in its own
(``load_flood.py``). The door allows 100 sockets per address, so the clients
spread over loopback addresses (every address in 127.0.0.0/8 is this machine):
each binds its end of the socket to its own.

1. **Connections held.** ``--connections`` participants join meetings of
   ``--meeting-size`` (no waiting room: joined is admitted), ``--per-address``
   from each address, and stay connected while 2 and 3 run. At the end each
   one raises a hand and must get its ``result``; a socket the server closed
   on the way is counted as dropped.
2. **Chat.** ``--chatters`` participants of one meeting each send a chat
   message every 1 / ``--chat-rate`` seconds (the server allows 10 a second
   per socket) for ``--chat-seconds``; an honest participant who sends
   nothing counts what it receives, and so does every sender. Each message is
   answered (a ``result``, or an ``error`` ``rate_limited``). Then the honest
   participant sends one last message: the Room decides in order and each
   socket delivers in order, so once everyone has read it, everything allowed
   before it has been delivered. Lost = allowed minus received, per reader.
3. **Joins under a password-guessing flood** (``load_joins.py``). A
   password-protected meeting (no waiting room) with its host in. ``--guests``
   honest guests keep joining with the right password, each join from an
   address of its own, and leave once admitted; the host rejoins with its host
   token from 127.0.0.1 every ``--host-every`` seconds. With the flood, the
   attacker (its own process) guesses at the same time,
   ``--attack-concurrency`` guesses in flight from many addresses (a new one
   each guess, or ``--attack-addresses`` of them in turn) and
   ``--one-address-concurrency`` from 127.0.0.1, the host's own address.
   Without it, the same honest joins alone: the baseline. Each phase has a
   meeting of its own and lasts ``--phase-seconds``; the rounds alternate
   which goes first. Honest joins are timed from connect to ``admitted``.

    python bench/load.py                  # 1000 connections, 30 chatters, 2 rounds (~3 min)
    python bench/load.py --quick          # 200 connections, 10 chatters, 1 round (< 1 min)
    python bench/load.py --connections 1500 --json load.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load_flood import loopback_addresses
from load_joins import JoinPhase, joins, joins_summary
from load_people import ANSWER_TIMEOUT, Person, RefusedError, join

from meetwarden.client_sdk import HostAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.server import RunningServer

FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
NAMES = [f"{first} {last}" for last in ("Silva", "Okafor", "Tanaka", "Lund") for first in FIRST]
FENCE = "the last message"


def open_policy(size: int) -> dict[str, Any]:
    """No waiting room: a join that is taken is an admission."""
    return {"entry": {"waiting_room": {"enabled": False}, "max_participants": size}}


async def run_limited(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(one(job))


def server_cpu(server: RunningServer) -> float:
    """User plus system CPU seconds of the server process so far."""
    assert server.process is not None
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def waited_for_a_core(pid: int) -> float:
    """Seconds the threads of process ``pid`` were ready to run but waited for a core
    (the run queue, /proc/PID/task/*/schedstat): a busy machine shows here, not as CPU."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def own_cpu() -> float:
    """User plus system CPU seconds of this process (the honest clients) so far."""
    times = os.times()
    return times.user + times.system


def server_rss_mib(server: RunningServer) -> float:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- 1. connections held ----------------------------------------------------------------


@dataclass
class Held:
    people: list[Person]
    meetings: int
    refused: Counter[str]
    seconds: float
    cpu: float
    rss_mib: float = 0.0


async def hold(server: RunningServer, arguments: argparse.Namespace) -> Held:
    size, count = arguments.meeting_size, arguments.connections
    meetings = [
        (await HostAPI.create_meeting(server.url, open_policy(size), api_key=server.api_key))
        for _ in range(-(-count // size))
    ]
    addresses = loopback_addresses("127.1.0.1")
    people: list[Person] = []
    refused: Counter[str] = Counter()

    def joining(number: int, address: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            meeting_id = meetings[number % len(meetings)].meeting_id
            try:
                name = NAMES[number % len(NAMES)]
                people.append(await join(server.ws_url, meeting_id, address, name))
            except RefusedError as error:
                refused[str(error)] += 1

        return run

    jobs = []
    for number in range(count):
        if number % arguments.per_address == 0:
            address = next(addresses)
        jobs.append(joining(number, address))
    cpu, started = server_cpu(server), time.perf_counter()
    await run_limited(jobs, arguments.join_concurrency)
    seconds, cpu = time.perf_counter() - started, server_cpu(server) - cpu
    return Held(people, len(meetings), refused, seconds, cpu, server_rss_mib(server))


async def still_answer(people: list[Person]) -> Counter[str]:
    """Each raises a hand: the reasons of the results, or why there was none."""
    outcomes: Counter[str] = Counter()

    async def ask(person: Person) -> None:
        ref = None if person.closed else await person.send({"type": "raise_hand"})
        if ref is None:
            outcomes[f"dropped: {person.close_reason}"] += 1
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ANSWER_TIMEOUT):
                await person.all_answered()
        result = person.results.get(ref)
        outcomes[result["reason"] if result else f"no result: {dict(person.errors)}"] += 1

    await asyncio.gather(*(ask(person) for person in people))
    return outcomes


# --- 2. chat --------------------------------------------------------------------------------


async def chat(server: RunningServer, arguments: argparse.Namespace) -> dict[str, Any]:
    created = await HostAPI.create_meeting(
        server.url, open_policy(arguments.chatters + 1), api_key=server.api_key
    )
    addresses = loopback_addresses("127.2.0.1")
    people = [
        await join(server.ws_url, created.meeting_id, next(addresses), NAMES[n % len(NAMES)])
        for n in range(arguments.chatters + 1)
    ]
    honest, senders = people[0], people[1:]
    each = round(arguments.chat_rate * arguments.chat_seconds)
    assert server.process is not None
    cpu, started = server_cpu(server), time.perf_counter()
    client_cpu = own_cpu()
    waits = waited_for_a_core(server.process.pid), waited_for_a_core(os.getpid())

    async def sender(number: int, person: Person) -> None:
        # Each sender at its own phase of the period, as people type.
        first = started + number / arguments.chat_rate / len(senders)
        for sequence in range(each):
            pause = first + sequence / arguments.chat_rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)  # the pacing is what is measured
            if await person.send({"type": "chat", "text": f"chat {number} {sequence}"}) is None:
                return  # the server closed this socket: counted below
        await person.all_answered()

    async with asyncio.timeout(arguments.chat_seconds + ANSWER_TIMEOUT):
        await asyncio.gather(*(sender(n, person) for n, person in enumerate(senders)))
    sending = time.perf_counter() - started
    # The Room decides in order and each socket delivers in order: whoever reads this
    # has been delivered everything allowed before it.
    await honest.send({"type": "chat", "text": FENCE})
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(ANSWER_TIMEOUT):
            await asyncio.gather(*(person.received(FENCE) for person in people))
    seconds, cpu = time.perf_counter() - started, server_cpu(server) - cpu
    client_cpu = own_cpu() - client_cpu
    server_waited = waited_for_a_core(server.process.pid) - waits[0]
    client_waited = waited_for_a_core(os.getpid()) - waits[1]
    allowed = {
        person.sent[ref]
        for person in senders
        for ref, result in person.results.items()
        if result["allowed"]
    }
    refused = {
        person.sent[ref]
        for person in senders
        for ref, result in person.results.items()
        if not result["allowed"]
    }
    connected = [person for person in people if not person.closed]
    figures = {
        "chatters": len(senders),
        "readers": len(people),
        "sent": sum(len(person.sent) for person in senders),
        "allowed": len(allowed),
        "refused": dict(
            Counter(
                result["reason"]
                for person in senders
                for result in person.results.values()
                if not result["allowed"]
            )
        ),
        "errors": dict(sum((person.errors for person in senders), Counter())),
        "unanswered": sum(person.unanswered for person in senders),
        "lost_by_the_honest_reader": len(allowed - honest.chats),
        "honest_reader_closed": honest.close_reason if honest.closed else None,
        "lost_by_connected_readers": sum(len(allowed - person.chats) for person in connected),
        "readers_short_of_the_last": sum(1 for person in connected if FENCE not in person.chats),
        "delivered_though_refused": sum(len(person.chats & refused) for person in people),
        "dropped": dict(Counter(person.close_reason for person in people if person.closed)),
        "sending_seconds": round(sending, 3),
        "seconds": round(seconds, 3),
        "chats_per_second": round(len(allowed) / seconds, 1),
        "offered_per_second": round(len(senders) * arguments.chat_rate, 1),
        "deliveries_per_second": round(
            sum(len(person.chats & allowed) for person in people) / seconds, 1
        ),
        "server_cores": round(cpu / seconds, 3),
        "client_cores": round(client_cpu / seconds, 3),
        "server_waited_for_a_core": round(server_waited / seconds, 3),
        "client_waited_for_a_core": round(client_waited / seconds, 3),
    }
    for person in people:
        await person.socket.close()
    return figures


# --- the run ----------------------------------------------------------------------------------


async def measure(arguments: argparse.Namespace, directory: Path) -> dict[str, Any]:
    server = RunningServer(directory / "data")
    server.start()
    try:
        held = await hold(server, arguments)
        chatted = await chat(server, arguments)
        guest_addresses = loopback_addresses("127.3.0.1")
        phases: list[JoinPhase] = []
        for number in range(arguments.rounds):
            for flood in (False, True) if number % 2 == 0 else (True, False):
                block = len(phases)
                phases.append(
                    await joins(
                        server, flood, block, guest_addresses, lambda: server_cpu(server), arguments
                    )
                )
        answers = await still_answer(held.people)
        rss = server_rss_mib(server)
        for person in held.people:
            await person.socket.close()
    except BaseException:
        print("--- the end of the server's log:\n" + "".join(server.log[-40:]), file=sys.stderr)
        raise
    finally:
        server.stop()
    without = joins_summary([phase for phase in phases if not phase.flood])
    with_flood = joins_summary([phase for phase in phases if phase.flood])
    return {
        "arguments": {key: value for key, value in vars(arguments).items() if key != "json"},
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "connections": {
            "asked": arguments.connections,
            "meetings": held.meetings,
            "per_address": arguments.per_address,
            "held": len(held.people),
            "refused": dict(held.refused),
            "joins_per_second": round(len(held.people) / held.seconds, 1),
            "server_cpu_ms_per_join": round(held.cpu / max(1, len(held.people)) * 1000, 2),
            "server_rss_mib_held": round(held.rss_mib, 1),
            "server_rss_mib_at_end": round(rss, 1),
            "at_the_end": dict(answers),
            "answered_at_the_end": sum(
                n for key, n in answers.items() if not key.startswith(("dropped", "no result"))
            ),
        },
        "chat": chatted,
        "joins": {"without_flood": without, "with_flood": with_flood},
    }


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


def report(results: dict[str, Any], command: str) -> None:
    held, chatted = results["connections"], results["chat"]
    without, flooded = results["joins"]["without_flood"], results["joins"]["with_flood"]
    print(f"$ {command}")
    print(f"machine load average (1, 5, 15 min) at the end: {results['load_average_at_end']}")
    print(
        f"\n1. connections: {held['asked']} asked in {held['meetings']} meetings, "
        f"{held['per_address']} per address"
    )
    print(f"   held                        {held['held']} (refused: {held['refused'] or 'none'})")
    print(
        f"   answered at the end         {held['answered_at_the_end']} "
        f"({held['at_the_end']}); ratio held / asked "
        f"{ratio(held['answered_at_the_end'], held['asked'])}"
    )
    print(
        f"   while joining               {held['joins_per_second']} joins/s, "
        f"{held['server_cpu_ms_per_join']} ms server CPU each"
    )
    print(
        f"   server RSS                  {held['server_rss_mib_held']} MiB with them held, "
        f"{held['server_rss_mib_at_end']} MiB at the end"
    )
    print(
        f"\n2. chat: {chatted['chatters']} senders and an honest reader in one meeting, "
        f"{chatted['offered_per_second']} messages/s offered for {chatted['sending_seconds']} s"
    )
    print(
        f"   sent {chatted['sent']}, allowed {chatted['allowed']}, refused "
        f"{chatted['refused'] or 'none'}, errors {chatted['errors'] or 'none'}, "
        f"unanswered {chatted['unanswered']}"
    )
    closed = chatted["honest_reader_closed"]
    closed = f" (the server closed its socket: {closed})" if closed else ""
    print(
        f"   handled                     {chatted['chats_per_second']} messages/s "
        f"(ratio handled / offered "
        f"{ratio(chatted['chats_per_second'], chatted['offered_per_second'])}), "
        f"{chatted['deliveries_per_second']} deliveries/s to {chatted['readers']} readers"
    )
    print(
        f"   lost                        {chatted['lost_by_the_honest_reader']} by the honest "
        f"reader{closed}, {chatted['lost_by_connected_readers']} by all readers still connected "
        f"(short of the last message: {chatted['readers_short_of_the_last']}); "
        f"delivered though refused {chatted['delivered_though_refused']}"
    )
    print(
        f"   sockets the server closed   {sum(chatted['dropped'].values())} "
        f"{chatted['dropped'] or ''}"
    )
    print(
        f"   CPU                         server {chatted['server_cores']} cores, "
        f"the clients' process {chatted['client_cores']}; waiting for a core (seconds per "
        f"second): server {chatted['server_waited_for_a_core']}, "
        f"clients {chatted['client_waited_for_a_core']}"
    )
    setup = results["arguments"]
    print(
        f"\n3. joins with the right password: {setup['guests']} guests joining at once, the "
        f"host rejoining every {setup['host_every']} s; {without['phases']} phase(s) of "
        f"{setup['phase_seconds']} s without the flood and as many with it"
    )
    print(f"   {'':36} {'without':>10} {'with flood':>11} {'ratio':>6}")
    rows = [
        ("honest guest joins (all)", without["guests"]["joins"], flooded["guests"]["joins"]),
        ("honest guest joins/s", without["guests"]["per_second"], flooded["guests"]["per_second"]),
        ("  guest join p50 ms", without["guests"]["p50_ms"], flooded["guests"]["p50_ms"]),
        ("  guest join p99 ms", without["guests"]["p99_ms"], flooded["guests"]["p99_ms"]),
        (
            "host rejoins/s (host token)",
            without["hosts"]["per_second"],
            flooded["hosts"]["per_second"],
        ),
        ("  host rejoin p50 ms", without["hosts"]["p50_ms"], flooded["hosts"]["p50_ms"]),
        ("  host rejoin p99 ms", without["hosts"]["p99_ms"], flooded["hosts"]["p99_ms"]),
        ("server cores", without["server_cores"], flooded["server_cores"]),
    ]
    for label, theirs, ours in rows:
        print(f"   {label:36} {theirs:>10} {ours:>11} {ratio(ours, theirs):>6}")
    for who in ("guests", "hosts"):
        print(
            f"   {who} refused: without {without[who]['refused'] or 'never'}, "
            f"with the flood {flooded[who]['refused'] or 'never'}"
        )
    print(f"   the host was told: {flooded['host_notices'] or 'nothing'}")
    for crowd, attack in sorted(flooded.get("attack", {}).items()):
        print(
            f"   attacker, {crowd} ({attack['concurrency']} in flight): "
            f"{attack['answered_per_second']} guesses answered/s, "
            f"p50 {attack['p50_ms']} ms, p99 {attack['p99_ms']} ms; {attack['answers']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000, help="participants held")
    parser.add_argument("--meeting-size", type=int, default=50)
    parser.add_argument("--per-address", type=int, default=20, help="held sockets per address")
    parser.add_argument("--join-concurrency", type=int, default=50)
    parser.add_argument("--chatters", type=int, default=30)
    parser.add_argument("--chat-rate", type=float, default=10.0, help="messages/s per sender")
    parser.add_argument("--chat-seconds", type=float, default=20.0)
    parser.add_argument("--guests", type=int, default=4, help="honest guests joining at once")
    parser.add_argument(
        "--host-every", type=float, default=0.25, help="seconds between the host's rejoins"
    )
    parser.add_argument("--phase-seconds", type=float, default=25.0)
    parser.add_argument("--rounds", type=int, default=2, help="with and without the flood")
    parser.add_argument("--attack-concurrency", type=int, default=32)
    parser.add_argument(
        "--attack-addresses", type=int, default=0, help="addresses in turn (0: a new one each)"
    )
    parser.add_argument("--one-address-concurrency", type=int, default=16)
    parser.add_argument(
        "--attack-target",
        choices=("meeting", "unknown"),
        default="meeting",
        help="guess at the honest guests' meeting, or at an id that names nothing",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 round (< 1 min)")
    parser.add_argument("--max-seconds", type=float, default=600, help="give up after this")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.connections, arguments.chatters, arguments.rounds = 200, 10, 1
        arguments.chat_seconds, arguments.phase_seconds = 5.0, 8.0
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory(prefix="meetwarden-load-") as directory:
        results = asyncio.run(
            asyncio.wait_for(measure(arguments, Path(directory)), arguments.max_seconds)
        )
    command = "python " + " ".join(sys.argv)
    report(results, command)
    if arguments.json:
        arguments.json.write_text(json.dumps({"command": command, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
