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

import logging
import time
from collections import defaultdict, deque
from typing import Final, Protocol

__all__ = ["AttemptBudget", "Budget", "FailureBudget", "LocalBudget"]

_SWEEP_ABOVE: Final = 10_000
log = logging.getLogger("meetwarden.budgets")


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

    def wait(self, key: str, now: float | None = None) -> float | None:
        """The seconds to wait before ``key``'s next attempt would be counted, or None."""
        now = time.monotonic() if now is None else now
        attempts = self._attempts.get(key)
        if attempts is None:
            return None
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]
            return None
        return attempts[0] + self.window - now if len(attempts) >= self.limit else None

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


class FailureBudget:
    """Failures per key in a sliding window, counted after the check failed (checks that
    succeed cost nothing): past ``limit``, the key waits out the window.

    Alone, the process counts them. Shared (``share``), each failure is also counted in
    a budget of every process, and a key that budget has spent is refused here until it
    may try again; a process learns of that at the key's next failure, so one key gets
    at most ``limit`` failures plus one per process.
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._here = AttemptBudget(limit, window_seconds)
        self._everywhere: Budget | None = None
        self._refused_until: dict[str, float] = {}

    @property
    def shared(self) -> bool:
        return self._everywhere is not None

    def share(self, budget: Budget) -> None:
        self._everywhere = budget

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None when it may try now."""
        now = time.monotonic()
        until = self._refused_until.get(key)
        if until is not None:
            if until > now:
                return until - now
            del self._refused_until[key]
        return self._here.wait(key, now)

    async def failed(self, key: str) -> None:
        """Counts a failure of ``key`` (and, shared, learns whether every process's budget
        for it is spent)."""
        self._here.take(key)
        if self._everywhere is None:
            return
        try:
            wait = await self._everywhere.take(key)
        except Exception as error:  # Redis unreachable: this process's count still holds
            log.warning("could not count a failure in the shared budget: %s", error)
            return
        if wait is not None:
            now = time.monotonic()
            if len(self._refused_until) > _SWEEP_ABOVE:
                self._refused_until = {k: t for k, t in self._refused_until.items() if t > now}
            self._refused_until[key] = now + wait
