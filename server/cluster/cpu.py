"""The share of one core this process used, measured between two readings."""

from __future__ import annotations

import time

__all__ = ["CpuMeter"]


class CpuMeter:
    """Process CPU time over wall time since the previous ``read()`` (0.0 to n cores).

    A node is one process on one core, so 1.0 is a node that is fully busy.
    """

    def __init__(self) -> None:
        self._cpu = time.process_time()
        self._wall = time.monotonic()

    def read(self) -> float:
        cpu, wall = time.process_time(), time.monotonic()
        spent, elapsed = cpu - self._cpu, wall - self._wall
        self._cpu, self._wall = cpu, wall
        if elapsed <= 0:
            return 0.0
        return round(max(spent, 0.0) / elapsed, 3)
