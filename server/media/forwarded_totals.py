"""What this process forwarded to subscribers, for /metrics."""

from __future__ import annotations

__all__ = ["FORWARDED", "ForwardedTotals"]


class ForwardedTotals:
    """What this process forwarded to subscribers: RTP packets and their bytes (for /metrics).

    Process-wide, as the transport is: one integer addition on the hot path, read
    when Prometheus scrapes (no lock: the event loop is the only writer).
    """

    __slots__ = ("octets", "packets")

    def __init__(self) -> None:
        self.packets = 0
        self.octets = 0


FORWARDED = ForwardedTotals()
