"""The load generator of bench/workers.py: one process of light raw WebSocket meetings.

Run by bench/workers.py, never by hand. It reads one job (a JSON line on stdin:
the server's port, the meetings with their host tokens, the pace), joins every
meeting's host and participants, prints ``joined``, waits for ``go``, runs the
meetings' steady work, and prints what it saw as one JSON line.

The clients are as light as this process can make them, because they share the
machine's cores with the server they measure: each socket is an
``asyncio.Protocol`` speaking the WebSocket framing itself (RFC 6455 section
5.2: frames from the server are unmasked, frames to it masked), on uvloop. A
received text is looked at only as far as its first bytes (the server writes
``type`` first and a result's ``ref`` right after it); only a ``welcome`` (for
the participant id) and an ``error`` (for its code) are parsed. Every person's
requests are paced by ``loop.call_at`` callbacks, not a task each.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter
from typing import Any, cast

RESULT = b'{"type":"result","ref":'
ERROR = b'{"type":"error"'
WELCOME = b'{"type":"welcome"'
ADMITTED = b'{"type":"admitted"'
REFUSED = b'{"type":"join_refused"'
JOIN_TIMEOUT = 60.0
NAMES = ["Ana Silva", "Bao Nguyen", "Chen Okafor", "Dara Schmidt", "Emil Tanaka", "Fatima Lund"]


def address_of(meeting: int) -> str:
    """Each meeting's people come from a loopback address of their own (the door allows 100
    sockets per address); all of 127.0.0.0/8 is this machine on Linux."""
    return f"127.{10 + meeting // 62500}.{(meeting // 250) % 250 + 1}.{meeting % 250 + 1}"


class Person(asyncio.Protocol):
    """One participant's socket: sends paced requests, times each until its ``result``."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.admitted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.participant_id = ""
        self.refs = 0
        self.sent: dict[int, float] = {}
        self.closed = False
        self.join = b""

    # --- the wire --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.admitted.done():
            self.admitted.set_exception(ConnectionError("closed before admitted"))
        elif self.run.counting:
            self.run.dropped_sockets += 1

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(bytes(buffer[: buffer.find(b"\r\n")]).decode("latin-1"))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.send_frame(self.join)  # no frame before the 101 (RFC 6455 section 4.1)
        at, size = 0, len(buffer)
        while size - at >= 2:
            length, head = buffer[at + 1] & 0x7F, 2
            if length == 126:
                if size - at < 4:
                    break
                length, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if size - at < 10:
                    break
                length, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
            if size - at < head + length:
                break
            opcode = buffer[at] & 0x0F
            payload = bytes(buffer[at + head : at + head + length])
            at += head + length
            if opcode == 1:
                self._text(payload)
            elif opcode == 9:  # ping: a pong with the same payload (RFC 6455 5.5.3)
                self.send_frame(payload, 0xA)
            elif opcode == 8:
                self.closed = True
                assert self.transport is not None
                self.transport.close()
                break
        del buffer[:at]

    def send_frame(self, payload: bytes, opcode: int = 1) -> None:
        if self.closed or self.transport is None:
            return
        size = len(payload)
        if size < 126:
            head = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            head = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
        mask = random.randbytes(4)
        key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")
        self.transport.write(head + mask + masked)

    def _fail(self, why: str) -> None:
        if not self.admitted.done():
            self.admitted.set_exception(ConnectionError(why))
        assert self.transport is not None
        self.transport.close()

    def _text(self, text: bytes) -> None:
        run = self.run
        run.received += 1
        if text.startswith(RESULT):
            ref = int(text[len(RESULT) : text.index(b",", len(RESULT))])
            sent = self.sent.pop(ref, None)
            if sent is not None and sent >= run.window_start:
                run.latencies.append(time.monotonic() - sent)
                run.answered_one()
        elif text.startswith(ERROR):
            message = json.loads(text)
            if run.counting:
                run.errors[str(message.get("code"))] += 1
            sent = self.sent.pop(message.get("ref"), None)
            if sent is not None and sent >= run.window_start:
                run.answered_one()
        elif not self.admitted.done():
            if text.startswith(WELCOME):
                self.participant_id = json.loads(text)["participant_id"]
            elif text.startswith(ADMITTED):
                self.admitted.set_result(None)
            elif text.startswith(REFUSED):
                self._fail(json.loads(text).get("reason", "refused"))

    # --- the meeting -----------------------------------------------------------------------

    def request(self, message: dict[str, Any]) -> None:
        self.refs += 1
        message["id"] = self.refs
        now = self.sent[self.refs] = time.monotonic()
        if now >= self.run.window_start:
            self.run.pending += 1
        self.send_frame(json.dumps(message, separators=(",", ":")).encode())


class Run:
    """What this process counts while the meetings run."""

    def __init__(self) -> None:
        self.counting = False
        self.window_start = float("inf")
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.received = 0
        self.dropped_sockets = 0
        self.requests = 0
        self.pending = 0
        """Requests sent in the window and not answered yet."""
        self.all_answered = asyncio.Event()

    def answered_one(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.all_answered.set()


async def connect(
    run: Run, port: int, meeting_id: str, address: str, join: dict[str, Any]
) -> Person:
    loop = asyncio.get_running_loop()
    _, person = await loop.create_connection(
        lambda: Person(run), "127.0.0.1", port, local_addr=(address, 0)
    )
    assert person.transport is not None
    key = base64.b64encode(os.urandom(16)).decode()
    person.transport.write(
        (
            f"GET /ws/meetings/{meeting_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    person.join = json.dumps({"type": "join", **join}).encode()
    await asyncio.wait_for(person.admitted, JOIN_TIMEOUT)
    return person


class Meeting:
    """A host and its participants; each acts every ``every`` seconds, at its own phase."""

    def __init__(self, host: Person, people: list[Person], every: float) -> None:
        self.host, self.people, self.every = host, people, every
        self.turns: dict[Person, int] = {}
        self.stop_at = 0.0

    def start(self, stop_at: float) -> None:
        loop = asyncio.get_running_loop()
        self.stop_at = stop_at
        for person in [self.host, *self.people]:
            self.turns[person] = 0
            loop.call_at(loop.time() + random.uniform(0, self.every), self._act, person)

    def _act(self, person: Person) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() >= self.stop_at or person.closed:
            return
        turn = self.turns[person]
        self.turns[person] = turn + 1
        if person is self.host:  # mute one participant, then ask it to unmute; the next
            target = self.people[(turn // 2) % len(self.people)].participant_id
            kind = "mute" if turn % 2 == 0 else "ask_to_unmute"
            person.request({"type": kind, "participant": target})
        else:  # raise a hand, say something, lower it, say something
            kind = ("raise_hand", "chat", "lower_hand", "chat")[turn % 4]
            message: dict[str, Any] = {"type": kind}
            if kind == "chat":
                message["text"] = f"point {turn} from the floor"
            person.request(message)
        person.run.requests += 1
        loop.call_at(loop.time() + self.every, self._act, person)


async def join_meeting(
    run: Run, port: int, number: int, meeting: dict[str, str], size: int, every: float
) -> Meeting:
    address = address_of(number)
    host_join = {"name": "Meeting Chair", "host_token": meeting["host_token"]}
    host = await connect(run, port, meeting["meeting_id"], address, host_join)
    people = [
        await connect(run, port, meeting["meeting_id"], address, {"name": NAMES[n % len(NAMES)]})
        for n in range(size - 1)
    ]
    return Meeting(host, people, every)


async def generate(job: dict[str, Any]) -> dict[str, Any]:
    run = Run()
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(job["concurrency"])
    failures: Counter[str] = Counter()

    async def one(number: int, meeting: dict[str, str]) -> Meeting | None:
        async with gate:
            try:
                return await join_meeting(
                    run, job["port"], number, meeting, job["size"], job["every"]
                )
            except (OSError, TimeoutError) as error:
                failures[f"{type(error).__name__}: {error}"[:120]] += 1
                return None

    joined = await asyncio.gather(*(one(n, m) for n, m in job["meetings"]))
    meetings = [meeting for meeting in joined if meeting is not None]
    print(json.dumps({"joined": len(meetings), "failures": dict(failures)}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "go"
    start = loop.time()
    run.counting = True
    window_start = time.monotonic() + job["warmup"]
    run.window_start = window_start
    for meeting in meetings:
        meeting.start(start + job["warmup"] + job["window"])
    await asyncio.sleep(job["warmup"] + job["window"])
    if run.pending:
        run.all_answered.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.all_answered.wait(), job["grace"])
    run.counting = False
    lost = run.pending
    people = [person for meeting in meetings for person in [meeting.host, *meeting.people]]
    for person in people:
        if person.transport is not None:
            person.transport.close()
    return {
        "meetings": len(meetings),
        "join_failures": dict(failures),
        "latencies": [round(value, 5) for value in run.latencies],
        "lost": lost,
        "errors": dict(run.errors),
        "dropped_sockets": run.dropped_sockets,
        "requests": run.requests,
        "received": run.received,
    }


def main() -> None:
    import uvloop

    job = json.loads(sys.stdin.readline())
    result = uvloop.run(generate(job))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
