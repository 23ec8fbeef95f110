"""A worker's guessing budgets, counted by the front process for every worker.

The same two calls as a process's own budget (server/budgets.py): ``take`` asks the
front (one message each way over the worker's channel) and ``give_back`` tells it.
A front that does not answer within ``ANSWER_SECONDS``, or is gone, leaves the worker
counting on its own: guesses are still bounded, per worker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from ..budgets import LocalBudget
from .budget_book import budget_ask
from .handoff import GIVE, TAKE, TAKEN, Channel, slot_message, slot_of

__all__ = ["FrontBudget", "SharedBudgets"]

log = logging.getLogger("meetwarden.workers")
ANSWER_SECONDS = 10.0


class SharedBudgets:
    """This worker's asks to the front's budgets, and their answers."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._numbers = itertools.count(1)
        self._asking: dict[int, asyncio.Future[float | None]] = {}
        self._gone = False

    def budget(self, name: str, limit: int, window_seconds: float) -> FrontBudget:
        return FrontBudget(self, name, limit, window_seconds)

    async def take(self, ask: str, fallback: LocalBudget, key: str) -> float | None:
        if self._gone:
            return await fallback.take(key)
        number = next(self._numbers)
        answer: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._asking[number] = answer
        self._channel.post(slot_message(TAKE, number, ask))
        try:
            return await asyncio.wait_for(answer, ANSWER_SECONDS)
        except TimeoutError:
            log.warning("the front did not answer a budget in %.0f s: counted here", ANSWER_SECONDS)
        except ConnectionError:
            pass  # the front is gone
        finally:
            self._asking.pop(number, None)
        return await fallback.take(key)

    def give_back(self, ask: str) -> None:
        if not self._gone:
            self._channel.post(slot_message(GIVE, 0, ask))

    def message(self, message: bytes) -> None:
        """An answer from the front."""
        try:
            kind, number, text = slot_of(message)
            wait = None if text == "" else float(text)
        except ValueError:
            log.warning("the front sent a budget answer this worker does not know: %r", message)
            return
        answer = self._asking.get(number)
        if kind == TAKEN and answer is not None and not answer.done():
            answer.set_result(wait)

    def front_gone(self) -> None:
        self._gone = True
        for answer in self._asking.values():
            if not answer.done():
                answer.set_exception(ConnectionError("the front process is gone"))


class FrontBudget:
    """One budget the front counts for every worker (a ``server.budgets.Budget``)."""

    def __init__(self, asks: SharedBudgets, name: str, limit: int, window_seconds: float) -> None:
        self._asks = asks
        self._budget = (name, limit, window_seconds)
        self._fallback = LocalBudget(limit, window_seconds)

    async def take(self, key: str) -> float | None:
        """Counts an attempt and returns None, or the seconds to wait when none is left."""
        return await self._asks.take(budget_ask(*self._budget, key), self._fallback, key)

    async def give_back(self, key: str) -> None:
        """Returns the latest attempt (it succeeded: it was no guess)."""
        self._asks.give_back(budget_ask(*self._budget, key))
