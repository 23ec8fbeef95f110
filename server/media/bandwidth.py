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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CEILING",
    "FLOOR",
    "HIGH_LOSS",
    "LOW_LOSS",
    "MIN_PACKETS",
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


@dataclass(slots=True)
class _Stream:
    highest: int
    lost: int


class BandwidthEstimate:
    """One subscriber's available bandwidth, from its REMB and its receiver reports."""

    __slots__ = (
        "_expected",
        "_last_update",
        "_limit",
        "_lost",
        "_now",
        "_remb",
        "_remb_at",
        "_sent_at_update",
        "_settling",
        "_streams",
        "decreases",
        "last_loss",
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
        if loss > HIGH_LOSS:
            if settling:
                return True  # the loss of packets sent before the last decrease took effect
            start = sent_rate if limit is None else limit
            self._limit = max(start * (1 - 0.5 * loss), FLOOR)
            self._settling = True
            self.decreases += 1
        elif loss < LOW_LOSS and limit is not None:
            grown = limit * INCREASE + 1_000  # libwebrtc adds 1 kbit/s, so low rates grow too
            self._limit = None if grown > CEILING else grown
        return True

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
