"""Repairing a publisher's lost packets before a subscriber sees the loss.

The server is the receiver of every publisher, so it is the one to ask for
what the network lost, as Galène's up-tracks do (rtpconn ``readLoop``: a NACK
once a packet is late by 20 ms or two packets) and LiveKit's buffers do. Per
published video track (``LossRepair``):

- Sequence numbers are followed in order. A packet that arrives past a gap
  makes the packets in between *missing*; each is asked for with a generic
  NACK (RFC 4585 6.2.1) once it has been missing ``REORDER_WAIT`` (a packet
  merely overtaken arrives in that time), then again every retransmission
  timeout while it is still missing, at most ``MAX_NACKS`` times. NACKs due
  together go out as one RTCP packet, a PID and a bitmask per 17 packets.
- The timeout is computed as TCP's (RFC 6298 2): a smoothed round trip and
  its variation, sampled from the time between the first NACK of a packet
  and its retransmission, never from a packet asked for twice (Karn's rule,
  RFC 6298 3), within [``MIN_RTO``, ``MAX_RTO``].
- While a packet is missing, the ones after it wait here, so that subscribers
  receive the stream in order and whole: a retransmission (RFC 4588's RTX,
  unwrapped by the caller, or the packet itself) takes its place and releases
  what waited behind it, and the cache holds it for subscribers' own NACKs.
  Video decodes in order, so the wait costs a subscriber nothing it would not
  have waited anyway; audio never waits (Opus conceals a loss, RFC 6716 4.4).
- Repair is given up on when it cannot work in time: a packet still missing
  after ``MAX_NACKS`` timeouts or ``MAX_WAIT``, a gap wider than
  ``MAX_GAP``, or more than ``MAX_HELD`` packets waiting. Then, if a keyframe
  waits behind the gap, the stream skips to it; otherwise what waited is
  dropped and the publisher is asked for a keyframe (PLI, rate-limited by
  the track's ``KeyframeRequester``), asked again every
  ``KEYFRAME_RETRY`` until one arrives. Either way every subscriber resumes
  on that keyframe with its numbering continued (``DownTrack.resume``): no
  subscriber is left waiting for a packet that will never come (aiortc's
  receiver would wait for 512 more, jitterbuffer.py).

Nothing here sees the gate: the track resets its repair when its gate opens or
closes, and releases held packets only while the gate is open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import NamedTuple

from .packet_cache import CachedPacket

__all__ = [
    "MAX_GAP",
    "MAX_HELD",
    "MAX_NACKS",
    "MAX_WAIT",
    "REORDER_WAIT",
    "LossRepair",
    "RepairCounters",
]

REORDER_WAIT = 0.02
"""Seconds a packet may be late before it is asked for (Galène: 20 ms or 2 packets)."""
MAX_NACKS = 5
"""NACKs per missing packet: under 10 % loss each way, 1 in 4,000 is still lost after five."""
MAX_WAIT = 1.0
"""Seconds a packet may be missing at most, whatever the round trip."""
MAX_GAP = 128
"""The widest gap asked for: what aiortc's sender keeps for retransmission (rtp.py
RTP_HISTORY_SIZE); a wider one is faster mended by a keyframe."""
MAX_HELD = 512
INITIAL_RTO = 0.2
MIN_RTO = 0.03
MAX_RTO = 0.5
KEYFRAME_RETRY = 0.5
_LATE = 1024
"""A packet up to this far behind the newest is late (dropped unless missing); farther
is the publisher restarting its numbering (RFC 3550 A.1), taken as a new stream."""


_NO_PACKET = -1
"""``expected`` while waiting for a keyframe: a number no packet has."""


class RepairCounters(NamedTuple):
    """What a track's repair did, for tests, the bench and /metrics."""

    nacks_sent: int
    packets_nacked: int
    packets_repaired: int
    gaps_given_up: int
    keyframes_requested: int
    round_trip: float | None


class _Missing:
    __slots__ = ("first_nack", "nacks", "next_nack", "since")

    def __init__(self, now: float) -> None:
        self.since = now
        self.next_nack = now + REORDER_WAIT
        self.first_nack = 0.0
        self.nacks = 0


def _later(a: int, b: int) -> bool:
    """Whether sequence number ``a`` comes after ``b`` (RFC 3550 A.1 arithmetic)."""
    return 0 < (a - b) & 0xFFFF < 0x8000


class LossRepair:
    """One published video track's gap tracking, NACKs, held packets and give-ups."""

    def __init__(
        self,
        *,
        send_nack: Callable[[list[int]], bool],
        release: Callable[[CachedPacket], None],
        request_keyframe: Callable[[], None],
        resume_subscribers: Callable[[], None],
    ) -> None:
        self._send_nack = send_nack
        self._release = release
        self._request_keyframe = request_keyframe
        self._resume_subscribers = resume_subscribers
        self.expected: int | None = None
        """The next sequence number to release; None until a packet starts the stream."""
        self._highest = 0
        self._missing: dict[int, _Missing] = {}
        self._held: dict[int, CachedPacket] = {}
        self._awaiting_keyframe = False
        self._next_keyframe_request = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._srtt: float | None = None
        self._rttvar = 0.0
        self.nacks_sent = 0
        self.packets_nacked = 0
        self.packets_repaired = 0
        self.gaps_given_up = 0
        self.keyframes_requested = 0

    # ------------------------------------------------------------------ packets

    def passes(self, packet: CachedPacket) -> bool:
        """True for the next packet in order with nothing missing: the caller forwards it.

        Otherwise the repair takes the packet: it releases it (and whatever it
        unblocks) through ``release``, holds it, or drops it.
        """
        sequence_number = packet.sequence_number
        if sequence_number == self.expected and not self._missing:
            self.expected = (sequence_number + 1) & 0xFFFF
            self._highest = sequence_number
            return True
        self._take(packet, retransmission=False)
        return False

    def retransmitted(self, packet: CachedPacket) -> None:
        """A retransmission (an unwrapped RTX packet): taken only in place of a missing one."""
        if packet.sequence_number in self._missing:
            self._take(packet, retransmission=True)

    def _take(self, packet: CachedPacket, retransmission: bool) -> None:
        sequence_number = packet.sequence_number
        now = time.monotonic()
        if self._awaiting_keyframe:
            if packet.keyframe:
                self._awaiting_keyframe = False
                self._restart(packet, now)
            elif now >= self._next_keyframe_request:
                self._ask_keyframe(now)
            return
        if self.expected is None:
            self._restart(packet, now)
            return
        missing = self._missing.pop(sequence_number, None)
        if missing is not None:
            self._found(packet, missing, now, retransmission)
            return
        ahead = (sequence_number - self._highest) & 0xFFFF
        if ahead == 0 or 0x10000 - ahead <= _LATE:
            return  # a duplicate, or late for a packet released, held or given up on
        if ahead <= MAX_GAP:
            self._past_gap(packet, now)
        else:
            self._jump(packet, now)  # a restart, or a gap too wide to ask for

    def _found(
        self, packet: CachedPacket, missing: _Missing, now: float, retransmission: bool
    ) -> None:
        """A missing packet arrived: late, or repaired."""
        sequence_number = packet.sequence_number
        if missing.nacks:
            self.packets_repaired += 1
            if retransmission and missing.nacks == 1:
                self._sample(now - missing.first_nack)
        self._held[sequence_number] = packet
        if sequence_number == self.expected:
            self._release_run()

    def _past_gap(self, packet: CachedPacket, now: float) -> None:
        """A packet ahead of the newest: the ones in between are missing."""
        if packet.keyframe:
            self._skip_to(packet)  # nothing before a keyframe is worth waiting for
            return
        sequence_number = (self._highest + 1) & 0xFFFF
        while sequence_number != packet.sequence_number:
            self._missing[sequence_number] = _Missing(now)
            sequence_number = (sequence_number + 1) & 0xFFFF
        self._highest = packet.sequence_number
        if not self._missing:
            self.expected = (self._highest + 1) & 0xFFFF
            self._release(packet)
            return
        self._held[packet.sequence_number] = packet
        if len(self._held) > MAX_HELD:
            self._give_up(now)
        else:
            self._schedule(now + REORDER_WAIT)

    def _jump(self, packet: CachedPacket, now: float) -> None:
        self.gaps_given_up += 1
        self._clear()
        self._resume_subscribers()
        if packet.keyframe:
            self._restart(packet, now)
        else:
            self._await_keyframe(now)

    def _restart(self, packet: CachedPacket, now: float) -> None:
        self.expected = (packet.sequence_number + 1) & 0xFFFF
        self._highest = packet.sequence_number
        self._release(packet)

    def _release_run(self) -> None:
        """Release the held packets from ``expected`` on, up to the next missing one."""
        held = self._held
        expected = self.expected
        assert expected is not None
        while expected in held:
            packet = held.pop(expected)
            expected = (expected + 1) & 0xFFFF
            self.expected = expected
            self._release(packet)
            if self.expected is None:  # released into a reset (the gate closed meanwhile)
                return
        if not self._missing and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _skip_to(self, keyframe: CachedPacket) -> None:
        """Drop what is missing or held before ``keyframe``; subscribers resume on it."""
        start = keyframe.sequence_number
        self.gaps_given_up += 1
        self._missing = {s: m for s, m in self._missing.items() if _later(s, start)}
        self._held = {s: p for s, p in self._held.items() if _later(s, start)}
        if _later(start, self._highest):
            self._highest = start
        self._held[start] = keyframe
        self.expected = start
        self._resume_subscribers()
        self._release_run()

    # ------------------------------------------------------------------ timing

    def _rto(self) -> float:
        if self._srtt is None:
            return INITIAL_RTO
        return min(max(self._srtt + 4 * self._rttvar, MIN_RTO), MAX_RTO)

    def _sample(self, rtt: float) -> None:
        """RFC 6298 2.2-2.3: alpha 1/8, beta 1/4."""
        if self._srtt is None:
            self._srtt, self._rttvar = rtt, rtt / 2
        else:
            self._rttvar = 0.75 * self._rttvar + 0.25 * abs(self._srtt - rtt)
            self._srtt = 0.875 * self._srtt + 0.125 * rtt

    def _schedule(self, when: float) -> None:
        if self._timer is not None and self._timer_at <= when:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = asyncio.get_running_loop().call_later(
            max(when - time.monotonic(), 0.0), self._tick
        )

    def _tick(self) -> None:
        """NACK what is due, give up on what cannot be repaired in time, wait for the rest."""
        self._timer = None
        now = time.monotonic()
        rto = self._rto()
        deadline = min(MAX_WAIT, REORDER_WAIT + MAX_NACKS * rto)
        due: list[int] = []
        for sequence_number, missing in self._missing.items():
            if missing.next_nack > now:
                continue
            if missing.nacks >= MAX_NACKS or now - missing.since >= deadline:
                self._give_up(now)
                self._tick_again(now)
                return
            if not missing.nacks:
                missing.first_nack = now
                self.packets_nacked += 1
            missing.nacks += 1
            missing.next_nack = now + rto
            due.append(sequence_number)
        if due and self._send_nack(due):
            self.nacks_sent += 1
        self._tick_again(now)

    def _tick_again(self, now: float) -> None:
        if self._missing:
            self._schedule(min(missing.next_nack for missing in self._missing.values()))

    def _give_up(self, now: float) -> None:
        """Repair cannot work in time: skip to a keyframe that waits, or ask for one."""
        expected = self.expected
        assert expected is not None
        keyframe = None
        for offset in range((self._highest - expected) & 0xFFFF):
            packet = self._held.get((expected + offset + 1) & 0xFFFF)
            if packet is not None and packet.keyframe:
                keyframe = packet
                break
        if keyframe is not None:
            self._skip_to(keyframe)
            return
        self.gaps_given_up += 1
        self._clear()
        self._resume_subscribers()
        self._await_keyframe(now)

    def _await_keyframe(self, now: float) -> None:
        """Drop everything until a keyframe starts the stream again; ask for one."""
        self._awaiting_keyframe = True
        self.expected = _NO_PACKET  # no packet takes the fast path meanwhile
        self._ask_keyframe(now)

    def _ask_keyframe(self, now: float) -> None:
        self._next_keyframe_request = now + KEYFRAME_RETRY
        self.keyframes_requested += 1
        self._request_keyframe()

    # ------------------------------------------------------------------ control

    def _clear(self) -> None:
        self._missing = {}
        self._held = {}
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def reset(self) -> None:
        """Forget the stream (the gate opened or closed, the track ended): nothing is held."""
        self._clear()
        self.expected = None
        self._awaiting_keyframe = False

    @property
    def holding(self) -> int:
        """Packets waiting behind a missing one."""
        return len(self._held)

    def counters(self) -> RepairCounters:
        return RepairCounters(
            self.nacks_sent,
            self.packets_nacked,
            self.packets_repaired,
            self.gaps_given_up,
            self.keyframes_requested,
            self._srtt,
        )
