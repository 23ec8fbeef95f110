"""The front process's guessing budgets, counted for every worker.

A worker asks here before it checks a guess (``TAKE``: a meeting password, at any
of the meetings it holds) and gives back a guess that was right (``GIVE``); the
answer (``TAKEN``) is empty when the guess is counted, else the seconds to wait. A
failed host-API lookup is counted the same way, after it failed (server/budgets.py,
``FailureBudget``). Each meeting lives on one worker, so without this an address
would have one budget per worker for guesses spread over meetings
(server/runtime/attempts.py).

A message names its budget, limit and window, then the key; each budget is the
same ``AttemptBudget`` a single process keeps (server/budgets.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..budgets import AttemptBudget
from .handoff import GIVE, TAKE, TAKEN, slot_message, slot_of

__all__ = ["BudgetBook", "budget_ask"]

log = logging.getLogger("meetwarden.workers")
Post = Callable[[int, bytes], None]
"""Sends a message to the worker of that index."""


def budget_ask(name: str, limit: int, window: float, key: str) -> str:
    """The text of a ``TAKE`` or ``GIVE``: the budget, then the key (last: it may hold spaces)."""
    return f"{name} {limit} {window!r} {key}"


class BudgetBook:
    """Every budget the workers share, by name, limit and window."""

    def __init__(self, post: Post) -> None:
        self._post = post
        self._budgets: dict[tuple[str, int, float], AttemptBudget] = {}

    def message(self, worker: int, message: bytes) -> None:
        """A ``TAKE`` or ``GIVE`` from ``worker``; anything else is logged and ignored."""
        try:
            kind, number, text = slot_of(message)
            name, limit, window, key = text.split(" ", 3)
            which = (name, int(limit), float(window))
        except ValueError:
            log.warning(
                "worker %d sent a budget message the front does not know: %r", worker, message
            )
            return
        budget = self._budgets.get(which)
        if budget is None:
            budget = self._budgets[which] = AttemptBudget(which[1], which[2])
        if kind == TAKE:
            wait = budget.take(key)
            self._post(worker, slot_message(TAKEN, number, "" if wait is None else repr(wait)))
        elif kind == GIVE:
            budget.give_back(key)
