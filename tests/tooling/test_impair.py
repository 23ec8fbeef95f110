"""The impairment relay (tests/support/impair.py) does to datagrams what it says.

Real UDP sockets on loopback on both sides of the relay. Delays are checked as
lower bounds at the receiver (a busy machine only adds) and, exactly, in the
schedule the relay recorded; nothing here measures speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.impair import CLEAR, ImpairedLink, Impairment, rtp_header, sdp_address

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Endpoint(asyncio.DatagramProtocol):
    """A UDP socket that keeps what it receives: (arrival, payload, source)."""

    def __init__(self) -> None:
        self.got: list[tuple[float, bytes, tuple[str, int]]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.arrived = asyncio.Event()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.append((time.monotonic(), data, addr))
        self.arrived.set()

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def payloads(self) -> list[bytes]:
        return [data for _, data, _ in self.got]

    async def count(self, at_least: int, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.got) < at_least:
            self.arrived.clear()
            left = deadline - time.monotonic()
            assert left > 0, f"{len(self.got)} of {at_least} datagrams arrived"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)


async def _endpoint() -> Endpoint:
    _, endpoint = await asyncio.get_running_loop().create_datagram_endpoint(
        Endpoint, local_addr=("127.0.0.1", 0)
    )
    return endpoint


_OPEN: list[ImpairedLink] = []


@pytest.fixture
async def ends() -> AsyncIterator[tuple[Endpoint, Endpoint]]:
    """A client and a server socket; they and every relay made between them close after."""
    client, server = await _endpoint(), await _endpoint()
    yield client, server
    while _OPEN:
        _OPEN.pop().close()
    for end in (client, server):
        assert end.transport is not None
        end.transport.close()
    await asyncio.sleep(0)  # the transports close on the loop's next turn


async def _link(
    client: Endpoint, server: Endpoint, up: Impairment = CLEAR, seed: int = 7
) -> ImpairedLink:
    link = await ImpairedLink(up, seed=seed).start()
    _OPEN.append(link)
    link.server, link.client = server.address, client.address
    return link


async def _send(client: Endpoint, link: ImpairedLink, count: int, size: int = 100) -> None:
    """Sends ``count`` numbered datagrams as fast as the relay takes them: each is sent
    once the relay has the one before (a burst would overflow the socket's buffer)."""
    assert client.transport is not None
    for number in range(count):
        target = link.up.received + 1
        client.transport.sendto(number.to_bytes(4, "big") + bytes(size - 4), link.client_facing)
        deadline = time.monotonic() + 5
        while link.up.received < target:
            assert time.monotonic() < deadline, "the relay took no datagram"
            await asyncio.sleep(0)  # the relay reads on this loop's next turns


def _numbers(end: Endpoint) -> list[int]:
    return [int.from_bytes(data[:4], "big") for data in end.payloads()]


async def _quiet(end: Endpoint, seconds: float = 0.3) -> None:
    """Waits until nothing arrived for ``seconds``: the datagrams still flying have landed."""
    seen = -1
    while seen != len(end.got):
        seen = len(end.got)
        await asyncio.sleep(seconds)  # no event says "nothing more in flight"


async def test_random_loss_drops_the_share_it_says_and_the_same_ones_for_a_seed(ends) -> None:
    client, server = ends
    fates = []
    for _ in range(2):
        server.got.clear()
        link = await _link(client, server, Impairment(loss=0.1), seed=42)
        await _send(client, link, 1000)
        await server.count(1000 - link.up.dropped["loss"])
        await _quiet(server)
        assert link.up.received == 1000
        assert len(server.got) == 1000 - link.up.dropped["loss"] == link.up.delivered
        assert 50 <= link.up.dropped["loss"] <= 150  # 100 expected; the seed fixes it
        fates.append(set(_numbers(server)))
    assert fates[0] == fates[1], "the same seed drops the same datagrams"


async def test_a_blackout_drops_everything_until_it_ends_then_nothing(ends) -> None:
    client, server = ends
    link = await _link(client, server)
    _, end = link.blackout(0.3)
    await _send(client, link, 50)
    await _quiet(server, 0.1)
    assert server.got == []
    assert link.up.dropped["blackout"] == 50
    await asyncio.sleep(max(end - time.monotonic(), 0))  # waiting it out is the test
    await _send(client, link, 50)
    await server.count(50)
    assert _numbers(server) == list(range(50))
    link.close()


async def test_delay_and_jitter_keep_the_order_and_stay_in_their_bounds(ends) -> None:
    client, server = ends
    link = await _link(client, server, Impairment(delay=0.1, jitter=0.03))
    link.up.record = True
    sent = time.monotonic()
    for _ in range(40):
        await _send(client, link, 1)
        await asyncio.sleep(0.005)  # a stream's pace: the jitter must not reorder it
    await server.count(40)
    waits = [leaves - arrived for arrived, leaves in link.up.scheduled]
    departures = [leaves for _, leaves in link.up.scheduled]
    assert departures == sorted(departures), "jitter never reorders"
    # Never less than delay - jitter; more than delay + jitter only when held behind
    # the datagram ahead, which then leaves at the very same instant.
    assert min(waits) >= 0.07 - 1e-9
    for index, wait in enumerate(waits):
        if wait > 0.13 + 1e-9:
            assert departures[index] == departures[index - 1]
    assert max(waits) > min(waits), "the delay varies"
    assert server.got[0][0] - sent >= 0.07, "nothing arrives before its delay"


async def test_reordering_lets_later_datagrams_overtake_and_loses_none(ends) -> None:
    client, server = ends
    link = await _link(client, server, Impairment(reorder=0.2, reorder_delay=0.05))
    assert client.transport is not None
    for number in range(100):
        client.transport.sendto(number.to_bytes(4, "big"), link.client_facing)
        await asyncio.sleep(0.002)  # packets 2 ms apart: a 50 ms hold is overtaken
    await server.count(100)
    numbers = _numbers(server)
    assert sorted(numbers) == list(range(100))
    assert numbers != list(range(100)), "some datagrams were overtaken"
    link.close()


async def test_duplication_delivers_copies_it_counts(ends) -> None:
    client, server = ends
    link = await _link(client, server, Impairment(duplicate=0.1))
    await _send(client, link, 500)
    await server.count(500 + link.up.duplicated)
    await _quiet(server)
    assert 20 <= link.up.duplicated <= 90
    numbers = _numbers(server)
    assert len(numbers) == 500 + link.up.duplicated
    assert set(numbers) == set(range(500))


async def test_the_rate_limit_shapes_to_its_rate_and_drops_past_its_queue(ends) -> None:
    client, server = ends
    # 300 kbit/s, a 4 kB bucket, 20 kB of queue: 100 datagrams of 1000 bytes at once.
    shaped = Impairment(rate=300_000, bucket=4_000, queue=20_000)
    link = await _link(client, server, shaped)
    link.up.record = True
    started = time.monotonic()
    await _send(client, link, 100, size=1000)
    passed = 100 - link.up.dropped["queue"]
    await server.count(passed)
    # The bucket lets 4 kB through at once, the queue holds 20 kB more, the rest is
    # dropped: 24 datagrams pass (a few more if the machine was slow to hand them over).
    assert 24 <= passed <= 26, passed
    last_departure = max(leaves for _, leaves in link.up.scheduled)
    # (passed - bucket) bytes at 300 kbit/s: the schedule, and a lower bound for arrival.
    least = (passed * 1000 - 4_000) * 8 / 300_000
    assert last_departure - started >= least - 0.01
    assert server.got[-1][0] - started >= least - 0.01
    assert _numbers(server) == list(range(passed))


async def test_a_targeted_drop_takes_only_the_datagrams_it_names(ends) -> None:
    client, server = ends
    link = await _link(client, server)
    link.up.drop_if = lambda data: int.from_bytes(data[:4], "big") % 10 == 3
    await _send(client, link, 100)
    await server.count(90)
    await _quiet(server, 0.1)
    assert sorted(_numbers(server)) == [n for n in range(100) if n % 10 != 3]
    assert link.up.dropped["filter"] == 10


async def test_replies_find_the_client_and_a_path_change_moves_the_source(ends) -> None:
    client, server = ends
    link = await _link(client, server)
    assert server.transport is not None
    await _send(client, link, 1)
    await server.count(1)
    first_source = server.got[0][2]
    assert first_source == link.server_facing
    server.transport.sendto(b"reply", first_source)
    await client.count(1)
    assert client.got[0][1] == b"reply"
    assert client.got[0][2] == link.client_facing, "the client sees only the relay"

    new = await link.change_path(close_old=True)
    await _send(client, link, 1)
    await server.count(2)
    assert server.got[1][2] == new != first_source, "the server sees a new source"
    server.transport.sendto(b"to the old path", first_source)
    server.transport.sendto(b"to the new path", new)
    await client.count(2)
    await _quiet(client, 0.1)
    assert [data for _, data, _ in client.got[1:]] == [b"to the new path"]
    link.close()


def test_sdp_rewriting_puts_the_relay_in_every_candidate() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "m=video 40000 UDP/TLS/RTP/SAVPF 97",
            "c=IN IP4 127.0.0.1",
            "a=candidate:abc 1 udp 2130706431 127.0.0.1 40000 typ host",
            "a=candidate:def 1 udp 2130706431 10.0.0.5 40001 typ host",
            "m=audio 0 UDP/TLS/RTP/SAVPF 96",
            "",
        ]
    )
    link = ImpairedLink()
    link._client_side = link._server_side = None
    assert sdp_address(sdp) == ("127.0.0.1", 40000)

    class Fixed:
        address = ("127.0.0.9", 5555)

    link._client_side = Fixed()  # type: ignore[assignment]
    rewritten = link.through_client(sdp)
    assert link.server == ("127.0.0.1", 40000)
    assert "40000" not in rewritten
    assert "40001" not in rewritten
    assert rewritten.count("127.0.0.9 5555 typ host") == 2
    assert "m=video 5555 " in rewritten
    assert "m=audio 0 " in rewritten


def test_rtp_headers_are_read_in_clear_and_nothing_else_is_taken_for_rtp() -> None:
    rtp = bytes([0x80, 0x60]) + (513).to_bytes(2, "big") + bytes(4) + (99).to_bytes(4, "big")
    assert rtp_header(rtp + b"payload") == (99, 513, 0x60)
    rtcp = bytes([0x81, 205]) + bytes(10)
    stun = bytes([0x00, 0x01]) + bytes(18)
    dtls = bytes([22, 0xFE, 0xFD]) + bytes(10)
    assert [rtp_header(d) for d in (rtcp, stun, dtls, b"")] == [None] * 4
