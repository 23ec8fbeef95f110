"""How many bits per second one subscriber's link can take: REMB and a loss-based estimate.

Pure (no clock, no asyncio, no aiortc): time arrives as an argument. A
subscriber tells the server what it can take in two ways, and the estimate is
the smaller of the two:

- REMB (draft-alvestrand-rmcat-remb-03), when the subscriber sends one: a
  receiver's delay-based estimate (Chrome and aiortc compute it from the
  abs-send-time header extension). It counts while fresh (``REMB_FRESH_SECONDS``)
  and while the subscriber loses packets (the last interval's share at least
  ``LOW_LOSS``): an aiortc receiver on a loaded machine reads its packets late
  and reports a fraction of what reaches it without losing any (measured: 110
  kbit/s of a 500 kbit/s stream, bench/media_network.py), and a publisher's
  aiortc encoder is rebuilt, keyframe and all, on every REMB that moves it by
  10 % (aiortc codecs/vpx.py). A congested link loses packets once its queue is
  full, and then its REMB, lower than the loss-based limit, is the one to follow.
- Its receiver reports (RFC 3550 6.4.2) for the streams forwarded to it, read as
  the loss-based controller of Google Congestion Control
  (draft-ietf-rmcat-gcc-02 section 6): with ``p`` the share of packets lost since
  the last update, decrease to ``A * (1 - 0.5 p)`` when ``p > 0.10``, hold when
  ``0.02 <= p <= 0.10``, increase to ``1.05 A`` when ``p < 0.02``. Pion's
  interceptor (``pkg/gcc/loss_based_bwe.go``) and libwebrtc's
  ``SendSideBandwidthEstimation`` do the same, with libwebrtc's lower bound on
  the packets a loss fraction is read from (``kLimitNumPackets = 20``) and at
  most one update per feedback interval. LiveKit's stream allocator reads its
  channel capacity the same way from TWCC or REMB.

Loss is counted from the cumulative fields of the report blocks (extended
highest sequence number, cumulative number lost; RFC 3550 6.4.1), summed over
every stream of the subscriber: a retransmission the server sent on the same
SSRC counts as received, so what the controller sees is the loss left after
repair, and a link with random loss that NACKs repair is not taken for a
congested one.

Two points where this differs from GCC, each for a reason:

- There is no limit until loss first says there is one (``None``: nothing
  known, forward everything), and the limit starts from what was actually
  sent to the subscriber in that interval, not from a configured start rate:
  the server does not pace its sending, it forwards what publishers send.
- A limit that grows past ``CEILING`` is dropped again (back to ``None``).
- The interval right after a decrease does not decrease again: its reports are
  about packets sent before anyone acted on the decrease (a queue in front of a
  slow link holds a second or more of them). libwebrtc waits a round trip and
  300 ms between decreases (``kBweDecreaseInterval``) for the same reason.
- Once the loss is gone (``RECOVER_AFTER`` clean intervals in a row after a
  decrease), the limit goes back at once to the most the link carried without
  loss in the intervals before it (``CARRIED_WINDOW``), not up 5 % a second: a
  device that dropped packets for a second (a starved browser, a Wi-Fi hiccup)
  would otherwise wait half a minute for its video to come back. LiveKit's
  allocator probes the link with padding before it raises a stream again; with
  nothing to probe, the rate the link carried before is the probe. A recovery
  followed by a decrease within ``RECOVERY_TRIAL`` failed (the link no longer
  carries that rate): the next recovery waits ``FIRST_RECOVERY_BACKOFF``
  seconds, twice that after each further failure (up to ``MAX_RECOVERY_BACKOFF``),
  and meanwhile the limit grows 5 % a second as above. A recovery only lets
  paused streams resume: what grows into a limit (a simulcast layer, a
  publisher's REMB) reads ``steady_limit``, the limit without recoveries.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = [
    "CEILING",
    "FIRST_RECOVERY_BACKOFF",
    "FLOOR",
    "HIGH_LOSS",
    "LOW_LOSS",
    "MIN_PACKETS",
    "RECOVERY_TRIAL",
    "RECOVER_AFTER",
    "REMB_FRESH_SECONDS",
    "UPDATE_SECONDS",
    "BandwidthEstimate",
]

HIGH_LOSS = 0.10
"""Above this share of packets lost, the estimate decreases (GCC section 6)."""
LOW_LOSS = 0.02
"""Below this share, it increases; between the two it holds."""
INCREASE = 1.05
"""Multiplicative increase per update under low loss (GCC section 6)."""
UPDATE_SECONDS = 1.0
"""The least time between two loss-based updates: one RTCP report interval (RFC 3550 6.2)."""
MIN_PACKETS = 20
"""Packets expected in an interval before its loss share is read (libwebrtc kLimitNumPackets)."""
FLOOR = 50_000
"""The least estimate given, in bits per second: Opus speech and its headers fit."""
CEILING = 20_000_000
"""A loss-based limit above this is no limit; REMB values above it are clamped."""
REMB_FRESH_SECONDS = 5.0
"""A REMB older than this no longer counts (a browser sends one a second or on change)."""
RECOVER_AFTER = 2
"""Clean intervals (loss under ``LOW_LOSS``) in a row after a decrease before the limit
goes back to the rate the link carried before it."""
CARRIED_WINDOW = 3
"""Clean intervals whose rates are remembered: a recovery returns to the highest."""
RECOVERY_TRIAL = 10.0
"""Seconds after a recovery in which a decrease means the recovery failed."""
FIRST_RECOVERY_BACKOFF = 20.0
"""Seconds after a failed recovery before the next one may happen."""
MAX_RECOVERY_BACKOFF = 160.0
"""The longest wait between recoveries that failed."""


@dataclass(slots=True)
class _Stream:
    highest: int
    lost: int


class BandwidthEstimate:
    """One subscriber's available bandwidth, from its REMB and its receiver reports."""

    __slots__ = (
        "_backoff",
        "_carried",
        "_clean",
        "_expected",
        "_last_update",
        "_limit",
        "_lost",
        "_no_recovery_until",
        "_now",
        "_recover_to",
        "_recovered_at",
        "_remb",
        "_remb_at",
        "_sent_at_update",
        "_settling",
        "_steady",
        "_streams",
        "decreases",
        "last_loss",
        "recoveries",
    )

    def __init__(self) -> None:
        self._streams: dict[int, _Stream] = {}
        self._expected = 0
        self._lost = 0
        self._limit: float | None = None
        self._last_update: float | None = None
        self._sent_at_update = 0
        self._remb: int | None = None
        self._remb_at = 0.0
        self._now = 0.0
        self._settling = False
        self.decreases = 0
        self.last_loss: float | None = None
        self._carried: deque[float] = deque(maxlen=CARRIED_WINDOW)
        """Rates sent in the last clean intervals (bits per second)."""
        self._clean = 0
        """Clean intervals in a row."""
        self._recover_to: float | None = None
        """The rate carried before the last decrease, to go back to once the loss is gone."""
        self._steady: float | None = None
        """The limit as it grew without recoveries (``steady_limit``)."""
        self._recovered_at: float | None = None
        """When the limit last went back to it, for ``RECOVERY_TRIAL``."""
        self._no_recovery_until = 0.0
        self._backoff = 0.0
        self.recoveries = 0

    # ------------------------------------------------------------------ inputs

    def on_remb(self, bitrate: int, now: float) -> None:
        """The subscriber's REMB: the most it estimates it can receive, in bits per second."""
        self._remb = min(max(bitrate, 0), CEILING)
        self._remb_at = self._now = max(self._now, now)

    def on_report_block(self, ssrc: int, highest: int, cumulative_lost: int) -> None:
        """One report block about a stream forwarded to this subscriber (RFC 3550 6.4.1):
        the extended highest sequence number received and the cumulative number lost
        (24-bit signed: duplicates and retransmissions can make it negative), as read
        or as the raw 24 bits."""
        cumulative_lost &= 0xFFFFFF
        if cumulative_lost & 0x800000:
            cumulative_lost -= 0x1000000
        previous = self._streams.get(ssrc)
        self._streams[ssrc] = _Stream(highest, cumulative_lost)
        if previous is None:
            return
        expected = (highest - previous.highest) & 0xFFFFFFFF
        if expected == 0 or expected >= 0x80000000:
            return  # nothing new, or a report older than the last one
        self._expected += expected
        self._lost += cumulative_lost - previous.lost

    def forget(self, ssrc: int) -> None:
        """A stream no longer forwarded: its next report (if any) starts afresh."""
        self._streams.pop(ssrc, None)

    # ------------------------------------------------------------------ controller

    def update(self, now: float, sent_octets: int) -> bool:
        """Run the loss-based controller if an interval passed; True if it ran.

        ``sent_octets`` is every RTP payload octet sent to this subscriber so far
        (a running total): the limit a first decrease starts from is that rate.
        """
        self._now = max(self._now, now)
        if self._last_update is None:
            self._last_update, self._sent_at_update = now, sent_octets
            return False
        elapsed = now - self._last_update
        if elapsed < UPDATE_SECONDS or self._expected < MIN_PACKETS:
            return False
        loss = min(max(self._lost / self._expected, 0.0), 1.0)
        sent_rate = max(sent_octets - self._sent_at_update, 0) * 8 / elapsed
        self._expected = self._lost = 0
        self._last_update, self._sent_at_update = now, sent_octets
        self.last_loss = loss
        limit = self._limit
        settling, self._settling = self._settling, False
        if self._recovered_at is not None and now - self._recovered_at >= RECOVERY_TRIAL:
            self._recovered_at, self._backoff = None, 0.0  # the recovery held
        if loss > HIGH_LOSS:
            self._clean = 0
            if settling:
                return True  # the loss of packets sent before the last decrease took effect
            start = sent_rate if limit is None else limit
            self._limit = self._steady = max(start * (1 - 0.5 * loss), FLOOR)
            self._settling = True
            self.decreases += 1
            self._after_decrease(now)
        elif loss < LOW_LOSS:
            self._clean += 1
            self._carried.append(sent_rate)
            if limit is not None:
                grown = limit * INCREASE + 1_000  # libwebrtc adds 1 kbit/s: low rates grow too
                target = self._recover_to
                if target is not None and self._clean >= RECOVER_AFTER:
                    # Back to what the link carried; or where the limit grew past it since
                    # a mild decrease, still a recovery (a paused stream resumes on it).
                    grown, self._recovered_at = max(grown, target), now
                    self.recoveries += 1
                if self._clean >= RECOVER_AFTER:
                    self._recover_to = None
                steady = (limit if self._steady is None else self._steady) * INCREASE + 1_000
                self._limit = None if grown > CEILING else grown
                self._steady = None if self._limit is None else min(steady, grown)
        else:
            self._clean = 0
        return True

    def _after_decrease(self, now: float) -> None:
        """What the limit may go back to once the loss is gone, if anything."""
        if self._recovered_at is not None:  # the link no longer carries what it did
            doubled = max(2 * self._backoff, FIRST_RECOVERY_BACKOFF)
            self._backoff = min(doubled, MAX_RECOVERY_BACKOFF)
            self._no_recovery_until = now + self._backoff
            self._recovered_at = self._recover_to = None
            return
        if now < self._no_recovery_until or not self._carried:
            return
        carried = max(self._carried)
        if self._recover_to is None or carried > self._recover_to:
            self._recover_to = carried

    @property
    def steady_limit(self) -> int | None:
        """The loss-based limit as it grew without recoveries (5 % a second since the last
        decrease): what a stream that is not paused may grow into (a simulcast layer, what
        its publisher is asked for). A recovery is a probe for a paused stream; a layer
        raised on it would overdrive a link that lost packets because it is slow."""
        return None if self._steady is None else int(self._steady)

    @property
    def clean_intervals(self) -> int:
        """Intervals in a row whose loss was under ``LOW_LOSS``."""
        return self._clean

    @property
    def recovered(self) -> bool:
        """The limit went back to a rate the link carried before its last loss, less than
        ``RECOVERY_TRIAL`` ago: what it allows, the link has carried."""
        return self._recovered_at is not None

    # ------------------------------------------------------------------ output

    @property
    def loss_limit(self) -> int | None:
        """The loss-based limit alone (bits per second), None while there is none."""
        return None if self._limit is None else int(self._limit)

    @property
    def remb(self) -> int | None:
        """The subscriber's REMB if it counts (fresh, and packets lost), None otherwise."""
        if self._remb is None or self._now - self._remb_at > REMB_FRESH_SECONDS:
            return None
        if self.last_loss is None or self.last_loss < LOW_LOSS:
            return None
        return self._remb

    def available_bitrate(self) -> int | None:
        """The most this subscriber can take, in bits per second, as of the latest time
        given (``update``, ``on_remb``); None if nothing says there is a limit (no
        loss-based limit and no REMB that counts)."""
        values: list[float] = []
        if self._limit is not None:
            values.append(self._limit)
        remb = self.remb
        if remb is not None:
            values.append(remb)
        if not values:
            return None
        return int(min(max(min(values), FLOOR), CEILING))
