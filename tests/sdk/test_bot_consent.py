"""A bot keeps its media connection to a server that answers its consent checks late.

aioice alone ends a connection after six consent checks (RFC 7675) in a row
went unanswered within 0.5 s: a loaded server, or a bot process running
hundreds of bots whose event loop is late, loses its media although both
ends still answer. The server keeps consent by ``meetwarden.rtc.consent``
(tests/media/test_consent.py); the SDK installs the same rule on its first
media connection.

Each case runs in a fresh Python process that imports the SDK and none of the
server (the server's media plane installs the rule too, and a test process
may have imported it). There, a bot's connection made by the SDK
(``media._peer_connection``) and a plain aiortc peer connect through the
impairment relay (tests/support/impair.py); then every datagram from the
peer to the bot comes 0.7 s late, answers to the bot's checks included. The
intervals are scaled down as in tests/media/test_consent.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

TESTS = Path(__file__).resolve().parents[1]

CASE = r"""
import asyncio, contextlib, json, sys

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription

from meetwarden.client_sdk import MeetingClient
from meetwarden.client_sdk.media import _peer_connection, settled
from meetwarden.rtc import consent
from support.impair import ImpairedLink, Impairment

INTERVAL, EXPIRY = 0.3, 2.0


async def main(made_by: str) -> dict:
    consent.CONSENT_INTERVAL, consent.CONSENT_EXPIRY = INTERVAL, EXPIRY
    aioice.ice.CONSENT_INTERVAL = INTERVAL  # aioice's own rule at the same scale
    link = ImpairedLink()
    await link.start()
    if made_by == "sdk":
        bot = _peer_connection(MeetingClient("http://127.0.0.1:9", "m"))
    else:
        bot = RTCPeerConnection()
    peer = RTCPeerConnection()
    connected, ended = asyncio.Event(), asyncio.Event()

    @bot.on("connectionstatechange")
    def changed() -> None:
        if bot.connectionState == "connected":
            connected.set()
        if bot.connectionState in ("failed", "closed"):
            ended.set()

    try:
        bot.createDataChannel("meetwarden")
        await bot.setLocalDescription(await bot.createOffer())
        offer = link.through_client(bot.localDescription.sdp)
        await peer.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await peer.setLocalDescription(await peer.createAnswer())
        answer = link.through_server(peer.localDescription.sdp)
        await bot.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(connected.wait(), 20)
        link.set(up=Impairment(delay=0.7))  # the peer's datagrams, its answers among them
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), 3 * EXPIRY)
        return {
            "kept": not ended.is_set(),
            "server_imported": sorted(m for m in sys.modules if m.startswith("meetwarden.server")),
        }
    finally:
        for pc in (peer, bot):
            await settled(pc)
            await pc.close()
        link.close()


print(json.dumps(asyncio.run(main(sys.argv[1]))))
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _run_case(made_by: str) -> dict[str, object]:
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CASE,
        made_by,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_a_bot_keeps_its_connection_to_a_server_that_answers_late() -> None:
    sdk, plain = await asyncio.gather(_run_case("sdk"), _run_case("plain"))
    assert sdk["server_imported"] == [], "the case must run without the server's code"
    assert sdk["kept"], "the bot's connection closed although the server answered every check"
    # The control, in the same conditions: a connection made without the SDK, under
    # aioice's own rule, loses it.
    assert not plain["kept"], "a plain aiortc connection kept it: the delay did not bite"
