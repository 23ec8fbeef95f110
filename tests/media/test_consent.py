"""Consent freshness (RFC 7675): a peer that answers late keeps its connection; one that
stopped answering loses it.

Two real aiortc peer connections connect through the impairment relay
(tests/support/impair.py); then the relay delays what the "client" sends to the
"server" by 0.7 s, answers to the server's consent checks included. The
intervals are shortened for the test (the module's and aioice's own constants);
the count of checks and the expiry are the same rule at any scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aioice.ice
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from support.impair import ImpairedLink, Impairment

from meetwarden.client_sdk.media import settled
from meetwarden.rtc import consent

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

INTERVAL = 0.3
"""Seconds between consent checks in these tests (5 s in a server)."""
EXPIRY = 2.0
"""Seconds without an answer before consent expires in these tests (30 s in a server)."""
LATE = Impairment(delay=0.7)
"""Every answer 0.7 s late: more than aioice's 0.5 s window, far less than the expiry."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def short_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    consent.install_consent_checks()
    monkeypatch.setattr(consent, "CONSENT_INTERVAL", INTERVAL)
    monkeypatch.setattr(consent, "CONSENT_EXPIRY", EXPIRY)
    # aioice's own rule, at the same scale: 6 checks unanswered within 0.5 s each
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", INTERVAL)


class Pair:
    """A server and a client connection, connected through the relay."""

    def __init__(self) -> None:
        self.link = ImpairedLink()
        self.server = RTCPeerConnection()
        self.client = RTCPeerConnection()
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()

        @self.server.on("connectionstatechange")
        def changed() -> None:
            if self.server.connectionState == "connected":
                self.connected.set()
            if self.server.connectionState in ("failed", "closed"):
                self.closed.set()

    async def connect(self) -> None:
        await self.link.start()
        self.server.createDataChannel("meetwarden")
        await self.server.setLocalDescription(await self.server.createOffer())
        offer = self.link.through_client(self.server.localDescription.sdp)
        await self.client.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await self.client.setLocalDescription(await self.client.createAnswer())
        answer = self.link.through_server(self.client.localDescription.sdp)
        await self.server.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(self.connected.wait(), 20)

    async def still_connected_after(self, seconds: float) -> bool:
        """True if the server's connection did not fail or close for ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), seconds)
        return not self.closed.is_set()

    async def close(self) -> None:
        for pc in (self.client, self.server):
            await settled(pc)
            await pc.close()
        self.link.close()


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    made = Pair()
    try:
        await made.connect()
        yield made
    finally:
        await made.close()


async def test_a_peer_that_answers_late_keeps_its_connection(pair: Pair) -> None:
    pair.link.set(up=LATE)
    assert await pair.still_connected_after(3 * EXPIRY), "consent expired although answered"


async def test_without_the_change_the_same_late_peer_loses_it(
    monkeypatch: pytest.MonkeyPatch, pair: Pair
) -> None:
    """The control: aioice's own checks, each answered only within 0.5 s."""
    monkeypatch.setattr(aioice.ice.Connection, "query_consent", consent.stock_query_consent)
    # the checks already running are the module's: this one's start with a new connection
    again = Pair()
    try:
        await again.connect()
        again.link.set(up=LATE)
        assert not await again.still_connected_after(3 * EXPIRY)
    finally:
        await again.close()


async def test_a_peer_that_stopped_answering_loses_it_once_consent_expires(pair: Pair) -> None:
    started = time.monotonic()
    pair.link.blackout(60.0, down=False)  # the client's datagrams no longer arrive
    assert not await pair.still_connected_after(3 * EXPIRY)
    assert time.monotonic() - started >= EXPIRY - INTERVAL
