"""An impaired network link in userspace: a UDP relay between one client and the server.

The kernel of these machines has no ``netem``; this relay does what a test of a
real network needs, per direction (``up``: client to server, ``down``: server
to client), deterministic for a seed:

- random loss (``loss``, a probability per datagram) and bursts that drop
  everything (``blackout(seconds)``), plus a predicate for targeted drops
  (``Direction.drop_if``, e.g. one RTP sequence number);
- delay with jitter (``delay`` ± ``jitter``, uniform). As on a real path,
  jitter varies the queueing delay and keeps the order (a datagram never
  leaves before the one ahead of it); reordering is separate (``reorder``:
  that share of datagrams is held ``reorder_delay`` longer, and the ones
  behind it overtake it, as netem's ``reorder`` does);
- duplication (``duplicate``);
- a rate limit (``rate`` bits per second): a token bucket of ``bucket`` bytes
  that shapes (datagrams wait their turn) and drops at the tail once more than
  ``queue`` bytes wait, as Linux's ``tbf`` with ``limit``;
- a path change (``change_path``): the relay sends the client's datagrams to
  the server from a new socket (a new source port), as a NAT rebinding or a
  switch from Wi-Fi to mobile data looks to the server.

Datagrams pass in the order loss, duplication, rate limit, delay.

How it gets into the path with aiortc: ICE connects to the addresses in the
candidates the other side wrote in its SDP. ``ImpairedLink.through_client``
rewrites the server's SDP that the client reads (every candidate becomes the
relay's client-facing address), and ``through_server`` rewrites the client's
SDP that the server reads (every candidate becomes the relay's server-facing
address); the relay learns each side's real address from the SDP it rewrites.
Both ends then check, nominate and send on the pair through the relay, and
see no address that would let them go around it; nothing in the server or the
client changes. STUN, DTLS, SRTP and SRTCP all pass through the relay, which
reads only what SRTP leaves in clear (RFC 3711 3.1: the RTP header), so a
predicate can pick an RTP packet by SSRC and sequence number (``rtp_header``).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLEAR",
    "Address",
    "Direction",
    "ImpairedLink",
    "Impairment",
    "is_rtcp",
    "rtp_header",
    "sdp_address",
]

Address = tuple[str, int]
_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+) (\d+)( .*)$")


@dataclass(frozen=True, slots=True)
class Impairment:
    """What one direction of the link does to the datagrams that cross it."""

    loss: float = 0.0
    """Probability that a datagram is dropped."""
    delay: float = 0.0
    """Seconds every datagram takes (one way)."""
    jitter: float = 0.0
    """Seconds of uniform variation around ``delay`` (order kept)."""
    reorder: float = 0.0
    """Probability that a datagram is held ``reorder_delay`` longer, overtaken by the next."""
    reorder_delay: float = 0.02
    duplicate: float = 0.0
    """Probability that a datagram is delivered twice."""
    rate: float | None = None
    """Bits per second the link carries (None: unlimited)."""
    bucket: int = 16_000
    """Bytes that may pass at once when the link was idle (the token bucket's depth)."""
    queue: int = 64_000
    """Bytes that may wait for the rate limit; a datagram beyond is dropped."""


CLEAR = Impairment()


@dataclass(slots=True)
class Direction:
    """One direction of the link: its impairment, its random source and its counts."""

    name: str
    impairment: Impairment
    rng: random.Random
    drop_if: Callable[[bytes], bool] | None = None
    """A predicate for targeted drops (applied before everything else)."""
    blackout_until: float = 0.0
    received: int = 0
    delivered: int = 0
    duplicated: int = 0
    dropped: dict[str, int] = field(
        default_factory=lambda: {"loss": 0, "blackout": 0, "filter": 0, "queue": 0}
    )
    scheduled: list[tuple[float, float]] = field(default_factory=list)
    """(arrival, departure) of each datagram let through, when ``record`` is on."""
    record: bool = False
    _theoretical_arrival: float = 0.0
    _last_due: float = 0.0

    def fate(self, data: bytes, now: float) -> list[float]:
        """When each copy of this datagram leaves (monotonic time); empty if dropped."""
        self.received += 1
        if self.drop_if is not None and self.drop_if(data):
            self.dropped["filter"] += 1
            return []
        if now < self.blackout_until:
            self.dropped["blackout"] += 1
            return []
        impairment = self.impairment
        # Draw every random number for every datagram, whatever the settings, so that a
        # seed gives the same fates when only one knob changes.
        lost, doubled, reordered = self.rng.random(), self.rng.random(), self.rng.random()
        wobble = self.rng.uniform(-1.0, 1.0) * impairment.jitter
        if lost < impairment.loss:
            self.dropped["loss"] += 1
            return []
        copies = 2 if doubled < impairment.duplicate else 1
        self.duplicated += copies - 1
        departures = []
        for _ in range(copies):
            leaves = self._shape(len(data), now, impairment)
            if leaves is None:
                self.dropped["queue"] += 1
                continue
            due = max(leaves + max(impairment.delay + wobble, 0.0), self._last_due)
            if reordered < impairment.reorder:
                due += impairment.reorder_delay  # the ones behind overtake it
            else:
                self._last_due = due
            departures.append(due)
            if self.record:
                self.scheduled.append((now, due))
        return departures

    def _shape(self, size: int, now: float, impairment: Impairment) -> float | None:
        """The token bucket as a virtual scheduler (ITU-T I.371's GCRA, used to shape):
        when the datagram may leave, or None when the queue is full."""
        if impairment.rate is None:
            return now
        # The bucket holds ``bucket`` bytes of tokens, refilled at ``rate``: a datagram
        # leaves once the tokens it needs are there, i.e. when the link's virtual clock
        # (every byte let through so far, at ``rate``) is at most a bucket ahead of now.
        theoretical = max(self._theoretical_arrival, now) + 8 * size / impairment.rate
        leaves = max(now, theoretical - 8 * impairment.bucket / impairment.rate)
        if (leaves - now) * impairment.rate / 8 > impairment.queue:
            return None
        self._theoretical_arrival = theoretical
        return leaves


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self._on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable from an end that went away: a lost datagram

    def sendto(self, data: bytes, addr: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    @property
    def address(self) -> Address:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port


class ImpairedLink:
    """A relay in front of one client connection; ``await start()``, then rewrite its SDP."""

    def __init__(
        self,
        up: Impairment = CLEAR,
        down: Impairment = CLEAR,
        *,
        seed: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.up = Direction("up", up, random.Random(f"{seed}-up"))
        self.down = Direction("down", down, random.Random(f"{seed}-down"))
        self.server: Address | None = None
        """The server's real address (from the SDP rewritten by ``through_client``)."""
        self.client: Address | None = None
        """The client's address: from its SDP, then from where its datagrams come from."""
        self._client_side: _Socket | None = None
        self._server_side: _Socket | None = None
        self._old_server_sides: list[_Socket] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self.path_changes = 0

    async def start(self) -> ImpairedLink:
        self._client_side = await self._open(self._from_client)
        self._server_side = await self._open(self._from_server)
        return self

    async def _open(self, on_datagram: Callable[[bytes, Address], None]) -> _Socket:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: _Socket(on_datagram), local_addr=(self.host, 0)
        )
        return protocol

    # ------------------------------------------------------------------ addresses

    @property
    def client_facing(self) -> Address:
        """Where the client sends: the address its rewritten SDP names for the server."""
        assert self._client_side is not None, "start() first"
        return self._client_side.address

    @property
    def server_facing(self) -> Address:
        """Where the server sends, and where the client's datagrams come from."""
        assert self._server_side is not None, "start() first"
        return self._server_side.address

    def through_client(self, server_sdp: str) -> str:
        """The server's SDP as the client must read it: the server is at the relay."""
        self.server = sdp_address(server_sdp)
        return _rewrite(server_sdp, self.client_facing)

    def through_server(self, client_sdp: str) -> str:
        """The client's SDP as the server must read it: the client is at the relay."""
        self.client = sdp_address(client_sdp)
        return _rewrite(client_sdp, self.server_facing)

    # ------------------------------------------------------------------ control

    def set(self, up: Impairment | None = None, down: Impairment | None = None) -> None:
        """Changes what either direction does from the next datagram on."""
        if up is not None:
            self.up.impairment = up
        if down is not None:
            self.down.impairment = down

    def blackout(self, seconds: float, up: bool = True, down: bool = True) -> tuple[float, float]:
        """Drops everything for ``seconds`` from now; returns (start, end), monotonic."""
        start = time.monotonic()
        for direction, chosen in ((self.up, up), (self.down, down)):
            if chosen:
                direction.blackout_until = start + seconds
        return start, start + seconds

    async def change_path(self, close_old: bool = True) -> Address:
        """Sends the client's datagrams from a new socket from now on; returns its address.

        ``close_old`` closes the socket the server has been sending to, so the
        server's datagrams to the old address are lost (a NAT mapping that
        expired); otherwise they are still relayed.
        """
        old = self._server_side
        self._server_side = await self._open(self._from_server)
        assert old is not None
        if close_old:
            old.close()
        else:
            self._old_server_sides.append(old)
        self.path_changes += 1
        return self._server_side.address

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for socket in (self._client_side, self._server_side, *self._old_server_sides):
            if socket is not None:
                socket.close()

    # ------------------------------------------------------------------ relaying

    def _from_client(self, data: bytes, addr: Address) -> None:
        self.client = addr  # the client may move: follow it, as a NAT's reply path would
        if self.server is not None:
            self._pass(self.up, data, lambda: self._server_side, self.server)

    def _from_server(self, data: bytes, addr: Address) -> None:
        if self.client is not None:
            self._pass(self.down, data, lambda: self._client_side, self.client)

    def _pass(
        self,
        direction: Direction,
        data: bytes,
        socket: Callable[[], _Socket | None],
        to: Address,
    ) -> None:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        for due in direction.fate(data, now):
            if due <= now:
                self._send(direction, socket, data, to)
            else:
                timer: list[asyncio.TimerHandle] = []

                def send_later(timer: list[asyncio.TimerHandle] = timer) -> None:
                    self._timers.difference_update(timer)
                    self._send(direction, socket, data, to)

                timer.append(loop.call_later(due - now, send_later))
                self._timers.add(timer[0])

    def _send(
        self, direction: Direction, socket: Callable[[], _Socket | None], data: bytes, to: Address
    ) -> None:
        chosen = socket()  # read at sending time: a path change applies to what waits too
        if chosen is not None:
            chosen.sendto(data, to)
            direction.delivered += 1


def sdp_address(sdp: str) -> Address:
    """The address of the first ICE candidate of component 1 in an SDP."""
    for line in sdp.splitlines():
        found = _CANDIDATE.match(line.strip())
        if found and line.split()[1] == "1":
            return found.group(2), int(found.group(3))
    raise ValueError("the SDP has no ICE candidate")


def _rewrite(sdp: str, address: Address) -> str:
    """Every candidate (and the default address of every m-line) moved to ``address``."""
    host, port = address
    lines = []
    for line in sdp.split("\r\n"):
        found = _CANDIDATE.match(line)
        if found:
            line = f"{found.group(1)}{host} {port}{found.group(4)}"
        elif line.startswith("m=") and line.split(" ")[1] != "0":
            kind, _, rest = line.split(" ", 2)
            line = f"{kind} {port} {rest}"
        elif line.startswith("c=IN IP4 "):
            line = f"c=IN IP4 {host}"
        lines.append(line)
    return "\r\n".join(lines)


def is_rtcp(data: bytes) -> bool:
    """RTCP's packet types (RFC 5761 4) share the byte where RTP has its payload type."""
    return len(data) > 1 and 192 <= data[1] <= 223


def rtp_header(data: bytes) -> tuple[int, int, int] | None:
    """(SSRC, sequence number, payload type) of an (S)RTP datagram, None for anything else.

    RFC 7983 7: a first byte of 128 to 191 is RTP or RTCP (STUN is 0 to 3, DTLS
    20 to 63); SRTP leaves the header in clear (RFC 3711 3.1).
    """
    if len(data) < 12 or not 128 <= data[0] <= 191 or is_rtcp(data):
        return None
    return int.from_bytes(data[8:12], "big"), int.from_bytes(data[2:4], "big"), data[1] & 0x7F
