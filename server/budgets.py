"""Guessing budgets: at most so many attempts per key (an address, an account) in a
sliding window, counted when they start.

An attempt is counted in the same synchronous step that checks the budget, so that
concurrent guesses cannot all pass the check before any is counted; an attempt that
turns out right is given back. ``Budget`` is the shape every budget has, whoever
counts it: this process (``LocalBudget``), the front process for every worker of
``serve --workers N`` (``server/workers/shared_budget.py``), or Redis for every node
of a cluster (``server/cluster/attempts.py``).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Final, Protocol

__all__ = ["AttemptBudget", "Budget", "LocalBudget"]

_SWEEP_ABOVE: Final = 10_000


class AttemptBudget:
    """At most ``limit`` attempts per key in a sliding window, counted when they start."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._attempts: dict[str, deque[float]] = defaultdict(deque)

    def take(self, key: str, now: float | None = None) -> float | None:
        """Counts an attempt and returns None, or the seconds to wait when none is left.

        Checking and counting are one step (no await between them), so callers
        running at once cannot overrun the limit.
        """
        now = time.monotonic() if now is None else now
        if len(self._attempts) > _SWEEP_ABOVE:  # many keys (made-up usernames): forget old ones
            self._sweep(now)
        attempts = self._attempts[key]
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if len(attempts) >= self.limit:
            return attempts[0] + self.window - now
        attempts.append(now)
        return None

    def _sweep(self, now: float) -> None:
        for key in [k for k, a in self._attempts.items() if not a or a[-1] <= now - self.window]:
            del self._attempts[key]

    def give_back(self, key: str) -> None:
        """Returns the latest attempt (it succeeded: it was no guess)."""
        attempts = self._attempts.get(key)
        if attempts:
            attempts.pop()
            if not attempts:
                del self._attempts[key]


class Budget(Protocol):
    """A guessing budget as sign-in uses it: this process's, or a cluster's."""

    async def take(self, key: str) -> float | None: ...

    async def give_back(self, key: str) -> None: ...


class LocalBudget:
    """This process's ``AttemptBudget``, as a ``Budget``."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.budget = AttemptBudget(limit, window_seconds)

    async def take(self, key: str) -> float | None:
        return self.budget.take(key)

    async def give_back(self, key: str) -> None:
        self.budget.give_back(key)
