"""The guessing budgets of joins: per address, and per meeting for addresses that fail.

What counts as a guess: a join that presents no valid host token or invite
to a meeting that needs a password, to a meeting id the server does not
hold, or with a token that does not open the meeting. Each guess is counted
before its check (``begin``) and given back if it turns out right
(``JoinAttempt.succeeded``), so concurrent guesses cannot outrun the count.

- Every address has its own budget (``per_address``: 5 in 5 minutes). One
  address that keeps failing locks out only its own guesses.
- A meeting has a shared budget (``per_meeting``: 30 in 10 minutes) that only
  addresses with failures draw from. Past it, addresses that have been
  failing stop guessing at that meeting; an address that has not been failing
  still gets its own budget, so the correct password from a clean address
  keeps working. Guesses at one meeting are bounded by one per address and
  window, plus the shared budget.
- A valid host token or invite is checked (an HMAC, no argon2) before any
  budget applies: strangers cannot lock the host or invited people out.

Unknown meeting ids are counted exactly like real ones (an id has a meeting
budget whether or not the meeting exists), so a lockout says nothing about
which ids are real.

Each meeting is held by one process, so a meeting's budget is that process's. An
address's budget is every process's: with ``serve --workers N`` the front process
counts it for the workers (``server/workers/budget_book.py``), and the nodes of a
cluster count it in Redis (``server/cluster/attempts.py``), so guesses spread over
meetings held by different processes meet one budget (``JoinAttempts.share``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass

from ..auth import AttemptLimiter, Reservation
from ..budgets import Budget

__all__ = ["ADDRESS_LIMIT", "ADDRESS_WINDOW", "JoinAttempt", "JoinAttempts"]

log = logging.getLogger("meetwarden.joins")
ADDRESS_LIMIT, ADDRESS_WINDOW = 5, 300.0
"""An address's guesses: 5 in 5 minutes."""


@dataclass
class JoinAttempt:
    """One guess, counted: ``succeeded`` gives it back, ``failed`` keeps it. Used as a
    context manager, a guess that ends in neither (the server failed while checking it)
    is given back: it was not the guesser's failure."""

    budgets: JoinAttempts
    own: Reservation
    shared: Reservation | None
    settled: bool = False
    everywhere: Budget | None = None
    """The address's budget of every process, when it is shared (given back too)."""

    def __enter__(self) -> JoinAttempt:
        return self

    def __exit__(self, *_: object) -> None:
        if not self.settled:
            self.succeeded()

    def _settle(self) -> bool:
        """False when it was settled already (each attempt is settled once)."""
        if self.settled:
            return False
        self.settled = True
        self.budgets.settled(self.own.key)
        return True

    def succeeded(self) -> None:
        if self._settle():
            self.budgets.per_address.release(self.own)
            if self.shared is not None:
                self.budgets.per_meeting.release(self.shared)
            if self.everywhere is not None:
                self.budgets.give_back_everywhere(self.everywhere, self.own.key)

    def failed(self) -> bool:
        """Keeps the attempt as a failure; True when the meeting's shared budget is spent."""
        if not self._settle() or self.shared is None:
            return False
        limiter = self.budgets.per_meeting
        return limiter.count(self.shared.key) >= limiter.max_failures


class JoinAttempts:
    def __init__(
        self,
        per_address: AttemptLimiter | None = None,
        per_meeting: AttemptLimiter | None = None,
    ) -> None:
        self.per_address = per_address or AttemptLimiter(
            max_failures=ADDRESS_LIMIT, window_seconds=ADDRESS_WINDOW
        )
        self.per_meeting = per_meeting or AttemptLimiter(max_failures=30, window_seconds=600)
        self._checking: Counter[str] = Counter()
        """Guesses of each address being checked now (counted, not yet failed)."""
        self._everywhere: Budget | None = None
        self._giving_back: set[asyncio.Task[None]] = set()

    @property
    def shared(self) -> bool:
        """Whether each address's guesses are counted by every process."""
        return self._everywhere is not None

    def share(self, budget: Budget) -> None:
        """Counts each address's guesses in ``budget`` as well: the budget every worker or
        every node of a cluster counts, with ``ADDRESS_LIMIT`` and ``ADDRESS_WINDOW``."""
        self._everywhere = budget

    async def start(self, address: str, meeting_id: str) -> JoinAttempt | float:
        """``begin``, after the address's shared budget (when there is one) counted the
        guess too; refused by either, nothing stays counted."""
        everywhere = self._everywhere
        if everywhere is None:
            return self.begin(address, meeting_id)
        address_key = f"address:{address}"
        try:
            wait = await everywhere.take(address_key)
        except Exception as error:  # Redis unreachable: this process's budget still holds
            log.warning("could not count a join guess in the shared budget: %s", error)
            return self.begin(address, meeting_id)
        if wait is not None:
            return wait or 1.0
        attempt = self.begin(address, meeting_id)
        if isinstance(attempt, JoinAttempt):
            attempt.everywhere = everywhere
        else:
            self.give_back_everywhere(everywhere, address_key)  # refused here: no guess
        return attempt

    def give_back_everywhere(self, budget: Budget, address_key: str) -> None:
        """Gives a guess back to the shared budget without waiting for it."""

        async def give_back() -> None:
            try:
                await budget.give_back(address_key)
            except Exception as error:  # the guess stays counted until its window ends
                log.warning("could not give a join guess back to the shared budget: %s", error)

        task = asyncio.get_running_loop().create_task(give_back())
        self._giving_back.add(task)
        task.add_done_callback(self._giving_back.discard)

    def begin(self, address: str, meeting_id: str) -> JoinAttempt | float:
        """The attempt, counted; or the seconds to wait (nothing counted) when over a budget."""
        address_key, meeting_key = f"address:{address}", f"meeting:{meeting_id[:64]}"
        # Failing: failures in the window, not guesses still being checked (two colleagues
        # behind one address typing the right password at once are not failing).
        failing = self.per_address.count(address_key) > self._checking[address_key]
        own = self.per_address.reserve(address_key)
        if own is None:
            return self.per_address.retry_after(address_key) or 1.0
        shared = None
        if failing:
            shared = self.per_meeting.reserve(meeting_key)
            if shared is None:
                self.per_address.release(own)  # refused before any check: not a guess
                return self.per_meeting.retry_after(meeting_key) or 1.0
        self._checking[address_key] += 1
        return JoinAttempt(self, own, shared)

    def settled(self, address_key: str) -> None:
        self._checking[address_key] -= 1
        if self._checking[address_key] <= 0:
            del self._checking[address_key]
