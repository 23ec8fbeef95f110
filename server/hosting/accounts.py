"""Host accounts' rules: usernames, passwords, and how many sign-in guesses are allowed.

Passwords are hashed with argon2id (``server/auth.py``'s :class:`Passwords`,
off the event loop). Following NIST SP 800-63B (section 3.1.1.2 of revision
4): a minimum length and no composition rules; every character counts,
spaces and emoji included.

Guessing is bounded twice (NIST SP 800-63B, "rate limiting"): per address,
so one source cannot try many passwords, and per account, so that many
sources together cannot either. An attempt is counted *when it starts*, in
the same synchronous step that checks the budget, so that concurrent sign-ins
cannot all pass the check before any is counted; a correct password gives its
attempt back. A node of a cluster counts them in Redis with the other nodes
(``server/cluster/attempts.py``, the same two calls as ``LocalBudget``'s).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict, deque
from typing import Final, Protocol

from ..i18n.markers import N_

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "AttemptBudget",
    "Budget",
    "LocalBudget",
    "password_problem",
    "username_problem",
]

MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 256
_SWEEP_ABOVE: Final = 10_000
_USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def username_problem(username: str) -> str | None:
    """Why a username (already lower-cased by the caller) is refused (an English
    message id), or None."""
    if _USERNAME.fullmatch(username) is None:
        return N_(
            "A username has 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit."
        )
    return None


def password_problem(password: str, username: str) -> tuple[str, dict[str, int]] | None:
    """Why a new password is refused (an English message id and its parameters), or None."""
    if len(password) < MIN_PASSWORD:
        return (
            N_("A password has at least {count} characters; a few words make a good one."),
            {"count": MIN_PASSWORD},
        )
    if len(password) > MAX_PASSWORD:
        return N_("A password has at most {count} characters."), {"count": MAX_PASSWORD}
    if password.strip().lower() == username:
        return N_("The password cannot be the username."), {}
    return None


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
