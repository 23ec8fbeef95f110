"""``--stop-nodes``: the servers stopped in the middle of a hold, and the way back.

Every process of the servers a run loads (the nodes, their ``--workers`` children)
gets SIGSTOP at a third of the hold and SIGCONT ``seconds`` later: an event loop that
does not run, as on a machine that swaps or a VM that is paused. A node of a cluster
stopped longer than its Redis entry lives (6 s) gives its meetings up when it runs
again, and every participant resumes at once: the reconnect storm. The bot processes
report how many of their bots are in (admitted) at each change, as it happens; measured:
how many were in when the servers stopped, the fewest in afterwards, and the time
from SIGCONT until as many were in again after the last drop (0 if nobody was out).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any

from cluster_servers import processes

__all__ = ["NodeStop"]


class NodeStop:
    def __init__(self, roots: list[int], seconds: float, at: float) -> None:
        """Stops the trees of ``roots`` for ``seconds`` from ``at`` (time.monotonic)."""
        self.roots, self.seconds, self.at = roots, seconds, at
        self.stopped: list[int] = []
        self.stopped_at: float | None = None
        self.continued_at: float | None = None
        self.in_before: int | None = None
        self.lowest: int | None = None
        self.back_at: float | None = None
        self._in: dict[int, int] = {}

    def heard(self, process: int, count: int, when: float) -> None:
        """A bot process has ``count`` bots in since ``when``."""
        self._in[process] = count
        total = sum(self._in.values())
        if self.stopped_at is None or self.in_before is None or when < self.stopped_at:
            return
        self.lowest = total if self.lowest is None else min(self.lowest, total)
        if total < self.in_before:
            self.back_at = None  # (again) fewer in: the way back starts over
        elif self.lowest < self.in_before and self.back_at is None:
            self.back_at = when

    def tick(self, now: float) -> None:
        """Stops the servers, or lets them go on, when it is time."""
        if self.stopped_at is None and now >= self.at:
            self.in_before = self.lowest = sum(self._in.values())
            self.stopped = processes(self.roots)
            self._signal(signal.SIGSTOP)
            self.stopped_at = now
        elif (
            self.stopped_at is not None
            and self.continued_at is None
            and now >= self.stopped_at + self.seconds
        ):
            self.release()

    def release(self) -> None:
        """Lets stopped servers go on (at once, whatever the time: the run is ending)."""
        if self.stopped_at is not None and self.continued_at is None:
            self._signal(signal.SIGCONT)
            self.continued_at = time.monotonic()

    def _signal(self, number: int) -> None:
        for pid in self.stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def figures(self) -> dict[str, Any]:
        stopped = None
        if self.stopped_at is not None and self.continued_at is not None:
            stopped = round(self.continued_at - self.stopped_at, 2)
        back = None  # some are still out
        if self.lowest is not None and self.in_before is not None:
            if self.lowest >= self.in_before:
                back = 0.0  # nobody was out
            elif self.back_at is not None and self.continued_at is not None:
                back = round(max(0.0, self.back_at - self.continued_at), 2)
        return {
            "stopped_seconds": stopped,
            "in_before_stop": self.in_before,
            "fewest_in_after_stop": self.lowest,
            "back_seconds": back,
        }
