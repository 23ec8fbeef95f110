"""The guessing budgets the front counts for the workers: the front's book and two
workers' halves, talking over real channel pairs (server/workers/handoff.py).

The end-to-end case (two worker processes, wrong passwords at meetings on both) is
in test_workers.py; these are the cases it cannot force: a guess given back, a front
that goes away before or while a worker asks, a message the front does not know.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from support.worker_channels import wired

from meetwarden.server.workers.budget_book import BudgetBook
from meetwarden.server.workers.handoff import TAKE, Channel, slot_message
from meetwarden.server.workers.shared_budget import FrontBudget, SharedBudgets

pytestmark = pytest.mark.anyio
GUESSER = "address:127.0.9.7"


@dataclass
class Pair:
    book: BudgetBook
    workers: list[SharedBudgets]
    budgets: list[FrontBudget]
    fronts: list[Channel]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """Two workers' halves and the front's book; each worker's budget: 5 in 5 minutes."""
    with wired(BudgetBook, SharedBudgets) as (book, workers, fronts):
        budgets = [asks.budget("join-address", 5, 300.0) for asks in workers]
        yield Pair(book, workers, budgets, fronts)


async def test_guesses_at_either_worker_spend_one_budget_and_a_right_one_is_given_back(
    pair: Pair,
) -> None:
    counted = [await pair.budgets[n % 2].take(GUESSER) for n in range(5)]
    assert counted == [None] * 5
    for budget in pair.budgets:
        wait = await budget.take(GUESSER)
        assert wait is not None, "spent, at either worker"
        assert 0 < wait <= 300, "until the first guess leaves the window"
    assert await pair.budgets[1].take("address:127.0.9.8") is None, "another address: its own"
    await pair.budgets[0].give_back(GUESSER)  # it was right: no guess
    assert await pair.budgets[1].take(GUESSER) is None
    assert await pair.budgets[0].take(GUESSER) is not None


async def test_a_budget_of_another_size_is_another_budget(pair: Pair) -> None:
    small = pair.workers[0].budget("join-address", 1, 300.0)
    assert await small.take(GUESSER) is None
    assert await small.take(GUESSER) is not None
    assert await pair.budgets[1].take(GUESSER) is None, "the 5-guess budget is untouched"


async def test_a_worker_whose_front_is_gone_counts_on_its_own(pair: Pair) -> None:
    assert await pair.budgets[0].take(GUESSER) is None
    pair.fronts[0].close()  # the front process ended
    # Counted here from now on: still five, not unbounded, and not waiting on an answer.
    counted = [await asyncio.wait_for(pair.budgets[0].take(GUESSER), 5) for _ in range(6)]
    assert counted[:5] == [None] * 5
    assert counted[5] is not None


async def test_an_ask_waiting_when_the_front_goes_is_counted_on_its_own(pair: Pair) -> None:
    # Worker 0's ask is posted, then the front's end closes before it is read.
    pair.fronts[0].close()
    assert await asyncio.wait_for(pair.budgets[0].take(GUESSER), 5) is None


async def test_a_message_the_front_does_not_know_is_ignored(pair: Pair) -> None:
    pair.book.message(0, slot_message(TAKE, 1, "join-address five 300.0 " + GUESSER))
    pair.book.message(0, b"t")
    assert await pair.budgets[0].take(GUESSER) is None, "the book still answers"
