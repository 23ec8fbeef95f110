"""What the server tells a publisher about the media it receives: RTCP receiver reports.

A browser that publishes sets its send rate from the feedback its receiver
gives: without receiver reports it never learns loss or round-trip time, and
Chromium stays at its initial estimate (300 kbit/s) for the whole meeting.
The server is that receiver for every publisher (their packets never reach
aiortc's receivers, which would report), so it keeps the RFC 3550 reception
statistics per published stream (appendix A.1 sequence tracking, A.3 loss,
A.8 jitter) and writes the report blocks.

The hot path adds one call per packet: a few integer operations and a clock read.
"""

from __future__ import annotations

import struct
import time

__all__ = ["ReceiveStats"]

_BLOCK = struct.Struct("!IIIIII")
_MAX_DROPOUT = 3000  # RFC 3550 A.1: a jump this far ahead is a restart, not loss
_MAX_MISORDER = 100


class ReceiveStats:
    """Reception statistics of one RTP stream (one SSRC), and its report block."""

    __slots__ = (
        "_arrival_scale",
        "_base_seq",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_last_sr",
        "_last_sr_at",
        "_max_seq",
        "_received_prior",
        "_transit",
        "received",
    )

    def __init__(self, clock_rate: int) -> None:
        self._arrival_scale = float(clock_rate)
        self.received = 0
        self._base_seq = 0
        self._max_seq = 0
        self._cycles = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._transit: float | None = None
        self._jitter = 0.0
        self._last_sr = 0
        self._last_sr_at = 0.0

    def on_packet(self, sequence_number: int, timestamp: int, arrival: float) -> None:
        """Count one packet; ``arrival`` is ``time.monotonic()`` when it came in."""
        if self.received == 0:
            self._base_seq = self._max_seq = sequence_number
        else:
            delta = (sequence_number - self._max_seq) & 0xFFFF
            if delta < _MAX_DROPOUT:
                if sequence_number < self._max_seq:
                    self._cycles += 0x10000
                self._max_seq = sequence_number
            elif delta <= 0x10000 - _MAX_MISORDER:
                # A jump far ahead: the sender restarted its sequence; start counting anew.
                self._base_seq = self._max_seq = sequence_number
                self._cycles = 0
                self.received = self._expected_prior = self._received_prior = 0
            # else: a late or duplicate packet, counted as received only.
        self.received += 1
        transit = arrival * self._arrival_scale - timestamp
        if self._transit is not None:
            difference = abs(transit - self._transit)
            if difference < 0x80000000:  # a timestamp jump is not jitter
                self._jitter += (difference - self._jitter) / 16.0
        self._transit = transit

    def on_sender_report(self, ntp_timestamp: int, arrival: float) -> None:
        """Remember the publisher's last sender report, for the LSR and DLSR fields."""
        self._last_sr = (ntp_timestamp >> 16) & 0xFFFFFFFF
        self._last_sr_at = arrival

    @property
    def expected(self) -> int:
        return self._cycles + self._max_seq - self._base_seq + 1 if self.received else 0

    @property
    def lost(self) -> int:
        return max(self.expected - self.received, 0)

    def report_block(self, ssrc: int, now: float | None = None) -> bytes:
        """The 24-byte report block (RFC 3550 6.4.1) for this stream; starts a new interval."""
        now = time.monotonic() if now is None else now
        expected = self.expected
        expected_interval = expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        lost = min(self.lost, 0x7FFFFF)
        delay = 0
        if self._last_sr:
            delay = int((now - self._last_sr_at) * 65536) & 0xFFFFFFFF
        return _BLOCK.pack(
            ssrc,
            (fraction << 24) | lost,
            (self._cycles + self._max_seq) & 0xFFFFFFFF,
            int(self._jitter) & 0xFFFFFFFF,
            self._last_sr,
            delay,
        )
