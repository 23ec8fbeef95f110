"""An SDK bot for the TURN tests, run on another test host (tests/support/firewalled.py).

    python relay_bot.py JOIN_URL --name NAME [--turn tcp] [--relay-only]

It joins, publishes a synthetic camera and microphone, and reports on stdout,
one JSON object a line: ``admitted`` (its participant id and the TURN URLs the
server gave it), ``published`` (the decisions), then ``connected`` with the
kind of local ICE candidate its publishing connection uses (``relay``: through
TURN) or ``failed``, and ``error`` for an error the server sends unasked
(``media_failed``). It reads commands on stdin, one a line: ``stats`` (packets
sent per source), ``unmute``, ``quit`` (or stdin closing). Tests drive it with
``BotProcess``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from meetwarden.client_sdk import ErrorReceived, IceOptions, MeetingClient
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack


def say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def report_errors(client: MeetingClient) -> None:
    """Says the errors the server sends unasked (``media_failed``: a connection gave up)."""
    while True:
        received = await client.wait_for(ErrorReceived, timeout=24 * 3600)
        say("error", code=received.error.reason, message=received.message.message)


def local_candidate_type(pc: Any) -> str | None:
    """The type (host, srflx, relay) of the local candidate the connection nominated."""
    for transceiver in pc.getTransceivers():
        ice = transceiver.sender.transport.transport
        for pair in ice._connection._nominated.values():  # aiortc exposes no selected pair
            return str(pair.local_candidate.type)
    return None


async def watch(pc: Any) -> None:
    done = asyncio.Event()
    pc.on("connectionstatechange", done.set)
    while pc.connectionState not in ("connected", "failed", "closed"):
        done.clear()
        await done.wait()
    if pc.connectionState == "connected":
        say("connected", candidate=local_candidate_type(pc))
    else:
        say("failed", state=pc.connectionState)


async def sent(pc: Any, sources: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for source, transceiver in sources.items():
        stats = await transceiver.sender.getStats()
        counts[source] = sum(s.packetsSent for s in stats.values() if s.type == "outbound-rtp")
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("link")
    parser.add_argument("--name", required=True)
    parser.add_argument("--turn", default="first")
    parser.add_argument("--relay-only", action="store_true")
    options = parser.parse_args()
    client = await MeetingClient.connect(options.link, name=options.name)
    client.ice = IceOptions(turn=options.turn, relay_only=options.relay_only)
    await client.wait_admitted()
    say(
        "admitted",
        participant_id=client.participant_id,
        urls=[url for server in client.ice_servers for url in server.urls],
    )
    media = client.media
    decisions = await media.publish(camera=SyntheticVideoTrack(), microphone=SyntheticAudioTrack())
    say("published", decisions=[[d.source, d.allowed, d.reason] for d in decisions])
    publisher = media._publisher
    watching = asyncio.ensure_future(watch(publisher))
    reporting = asyncio.ensure_future(report_errors(client))
    loop = asyncio.get_running_loop()
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            if line == "stats":
                say("stats", sent=await sent(publisher, media._sending))
            elif line == "unmute":
                result = await client.request_unmute()
                say("unmuted", allowed=result.allowed, reason=result.reason)
            elif line == "quit":
                break
    finally:
        watching.cancel()
        reporting.cancel()
        await client.close()


class BotProcess:
    """This bot in its own process (on a firewalled host), as a test drives it."""

    def __init__(self, process: asyncio.subprocess.Process, errors: Path) -> None:
        self.process = process
        self.errors = errors
        self.said: list[dict[str, Any]] = []

    @classmethod
    async def start(
        cls,
        prefix: list[str],
        link: str,
        *args: str,
        errors: Path,
        env: dict[str, str] | None = None,
    ) -> BotProcess:
        """``prefix``: what runs the bot elsewhere (``FirewalledHost.command()``)."""
        with errors.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *prefix,
                sys.executable,
                __file__,
                link,
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env={**os.environ, **(env or {})},
            )
        return cls(process, errors)

    async def expect(self, *events: str, within: float = 30.0) -> dict[str, Any]:
        """The next line that reports one of these events (earlier lines are kept in said)."""
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            while line := await self.process.stdout.readline():
                said = json.loads(line)
                self.said.append(said)
                if said["event"] in events:
                    return said
        raise AssertionError(
            f"the bot ended before saying {' or '.join(events)}:\n{self.errors.read_text()}"
        )

    async def ask(self, command: str, answer: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.expect(answer)

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


if __name__ == "__main__":
    asyncio.run(main())
