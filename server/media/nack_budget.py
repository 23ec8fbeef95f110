"""How many of a subscriber's NACKs are answered: a token bucket per forwarded stream.

One RTCP NACK of a few hundred bytes can name thousands of packets (each FCI names a
packet and a bitmask of 16 more, RFC 4585 6.2.1), and each packet answered is a
full-size datagram from the cache. Answered without limit, a subscriber could turn
the server into an amplifier against its own link or the server's (RFC 8083 4:
a media sender must not keep sending what the path cannot take). So each stream
to a subscriber may be resent at most ``BURST`` packets at once and ``RATE`` per
second after that, and one packet at most once per ``REPEAT`` seconds (a NACK that
crossed its retransmission in flight), as mediasoup's ``RtpStreamSend`` resends a
packet at most once per round trip and libwebrtc's ``RTPSender`` caps the
retransmission rate. What is over the budget is not resent: the subscriber asks
again, or for a keyframe. Pure: time is passed in.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["BURST", "RATE", "REPEAT", "NackBudget"]

BURST = 256
"""Packets one stream may have resent at once: a second of a 2.5 Mbit/s screen lost."""
RATE = 200.0
"""Packets per second a stream's budget grows back by."""
REPEAT = 0.1
"""Seconds before the same packet is resent again."""
_REMEMBERED = 1024  # packets whose last resend time is kept (the cache's size)


class NackBudget:
    """One forwarded stream's retransmission budget."""

    __slots__ = ("_at", "_resent", "_tokens", "refused")

    def __init__(self) -> None:
        self._tokens = float(BURST)
        self._at: float | None = None
        self._resent: OrderedDict[int, float] = OrderedDict()
        self.refused = 0
        """Packets asked for and not resent (over the budget, or resent just before)."""

    def allow(self, sequence_numbers: list[int], now: float) -> list[int]:
        """The packets of a NACK that may be resent now, each at most once."""
        if self._at is not None:
            self._tokens = min(float(BURST), self._tokens + (now - self._at) * RATE)
        self._at = now
        allowed: list[int] = []
        for seq in dict.fromkeys(sequence_numbers):  # once each, in the order asked
            last = self._resent.get(seq)
            if (last is not None and now - last < REPEAT) or self._tokens < 1:
                self.refused += 1
                continue
            self._tokens -= 1
            self._resent[seq] = now
            self._resent.move_to_end(seq)
            allowed.append(seq)
        while len(self._resent) > _REMEMBERED:
            self._resent.popitem(last=False)
        return allowed
