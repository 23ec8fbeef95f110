"""The attacker of bench/load.py: wrong-password joins, as fast as they are answered.

Runs in its own process, so that its work does not sit in the event loop that
times the honest joins. Two crowds guess at one password-protected meeting at
once, each keeping ``--concurrency`` guesses in flight:

- **many addresses**: each guess from the next address of a loopback block
  (``--first-address``; with ``--addresses N`` it cycles through N of them,
  with 0 every guess comes from an address not used before, as a botnet would);
- **one address** (``--one-address``, e.g. the host's own): every guess from it.

A guess connects, sends ``join`` with a wrong password, reads the first answer
and closes. It prints ``flooding`` once the crowds are started, stops when its
standard input closes (letting the guesses in flight finish), and prints one
JSON object: per crowd, the guesses answered, by answer (the ``join_refused``
reason, the door's ``error`` code, or a close code and reason), those left
without an answer (by exception), the seconds it ran and the answer times.

    python bench/load_flood.py --ws ws://127.0.0.1:8000 --meeting ID \\
        --first-address 127.16.0.1 --one-address 127.0.0.1 < /dev/null
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import websockets

__all__ = ["Crowd", "guess", "loopback_addresses"]

GUESS_TIMEOUT = 60.0
"""Seconds a guess may take before it counts as unanswered (argon2 queues under a flood)."""


def loopback_addresses(first: str, count: int = 0) -> Iterator[str]:
    """Loopback addresses from ``first`` on, skipping .0 and .255; with ``count``, those
    ``count`` addresses over and over. All of 127.0.0.0/8 is this machine on Linux."""
    start = int(ipaddress.IPv4Address(first))

    def block() -> Iterator[str]:
        value = start
        while True:
            address = ipaddress.IPv4Address(value)
            value += 1
            if address not in ipaddress.IPv4Network("127.0.0.0/8"):
                raise RuntimeError(f"ran out of loopback addresses after {first}")
            if address.packed[3] not in (0, 255):
                yield str(address)

    if not count:
        yield from block()
        return
    pool = [address for address, _ in zip(block(), range(count), strict=False)]
    while True:
        yield from pool


async def guess(ws_url: str, meeting_id: str, address: str, number: int) -> str:
    """One wrong-password join from ``address``: the answer (reason or error code)."""
    try:
        async with asyncio.timeout(GUESS_TIMEOUT):
            socket = await websockets.connect(
                f"{ws_url}/ws/meetings/{meeting_id}",
                compression=None,
                local_addr=(address, 0),
                open_timeout=GUESS_TIMEOUT,
            )
            try:
                join = {"type": "join", "name": "Mallory Guesser", "password": f"guess {number}"}
                await socket.send(json.dumps(join))
                answer: dict[str, Any] = json.loads(await socket.recv())
            finally:
                await socket.close()
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            return "unanswered: closed without a close frame"
        return f"closed {closed.rcvd.code} ({closed.rcvd.reason})"  # the door's answer, say
    except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
        return f"unanswered: {type(error).__name__}"
    return str(answer.get("reason") or answer.get("code") or answer["type"])


@dataclass
class Crowd:
    """Guessers sharing a supply of addresses; what they were answered."""

    name: str
    addresses: Iterator[str]
    concurrency: int
    answers: Counter[str] = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))

    async def guesser(self, ws_url: str, meeting_id: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            answer = await guess(ws_url, meeting_id, next(self.addresses), next(self.numbers))
            self.answers[answer] += 1
            if not answer.startswith("unanswered"):
                self.times.append(time.perf_counter() - started)

    def report(self, seconds: float) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "seconds": round(seconds, 3),
            "answers": dict(self.answers.most_common()),
            "times": [round(value, 5) for value in self.times],
        }


async def flood(arguments: argparse.Namespace) -> dict[str, Any]:
    crowds = [
        Crowd(
            "many addresses",
            loopback_addresses(arguments.first_address, arguments.addresses),
            arguments.concurrency,
        )
    ]
    if arguments.one_address:
        crowds.append(
            Crowd(
                "one address",
                loopback_addresses(arguments.one_address, 1),
                arguments.one_address_concurrency,
            )
        )
    stop = asyncio.Event()
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for crowd in crowds:
            for _ in range(crowd.concurrency):
                group.create_task(crowd.guesser(arguments.ws, arguments.meeting, stop))
        print("flooding", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until bench/load.py closes our input
        stop.set()
    seconds = time.perf_counter() - started
    return {crowd.name: crowd.report(seconds) for crowd in crowds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ws", required=True, help="the server's ws:// URL")
    parser.add_argument("--meeting", required=True, help="the meeting id to guess at")
    parser.add_argument("--first-address", default="127.16.0.1")
    parser.add_argument(
        "--addresses", type=int, default=0, help="cycle through this many (0: a new one each)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="guesses in flight")
    parser.add_argument("--one-address", help="also guess from this one address")
    parser.add_argument("--one-address-concurrency", type=int, default=16)
    arguments = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(flood(arguments))), flush=True)


if __name__ == "__main__":
    main()
