"""The attempt budgets as a unit (server/auth.py AttemptLimiter, server/runtime/attempts.py).

The end-to-end behaviour is in test_attempts.py; these pin the bookkeeping:
a reservation counts at once, a release gives it back, and an address is
"failing" only for failures, not for guesses still being checked.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from meetwarden.server.addresses import address_key, network_of
from meetwarden.server.auth import AttemptLimiter
from meetwarden.server.budgets import FailureBudget, LocalBudget
from meetwarden.server.cluster import SharedBudget
from meetwarden.server.cluster.connection import connect
from meetwarden.server.runtime.attempts import JoinAttempt, JoinAttempts


def test_a_reservation_counts_before_the_check_and_a_release_gives_it_back() -> None:
    limiter = AttemptLimiter(max_failures=2, window_seconds=60)
    first, second = limiter.reserve("k", now=0), limiter.reserve("k", now=0)
    assert first is not None
    assert second is not None
    assert limiter.reserve("k", now=1) is None, "two checks in flight use the whole budget"
    limiter.release(first)
    assert limiter.reserve("k", now=2) is not None
    assert limiter.reserve("k", now=59) is None
    assert limiter.reserve("k", now=60.5) is not None, "the one kept at 0 left the window"


def test_an_address_is_failing_for_its_failures_not_for_checks_in_flight() -> None:
    budgets = JoinAttempts(per_meeting=AttemptLimiter(max_failures=1, window_seconds=60))
    budgets.per_meeting.reserve("meeting:m")  # the meeting's shared budget is spent
    colleagues = [budgets.begin("10.0.0.1", "m") for _ in range(2)]
    assert all(isinstance(a, JoinAttempt) and a.shared is None for a in colleagues)
    first = colleagues[0]
    assert isinstance(first, JoinAttempt)
    first.failed()
    assert isinstance(budgets.begin("10.0.0.2", "m"), JoinAttempt), "another address: clean"
    refused = budgets.begin("10.0.0.1", "m")
    assert isinstance(refused, float), "a failing address draws on the spent shared budget"
    assert budgets.per_address.count("address:10.0.0.1") == 2, "the refusal was not counted"


def test_a_guess_the_server_failed_to_check_is_given_back() -> None:
    budgets = JoinAttempts()
    attempt = budgets.begin("10.0.0.1", "m")
    assert isinstance(attempt, JoinAttempt)

    def check() -> None:
        with attempt:
            raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        check()
    assert budgets.per_address.count("address:10.0.0.1") == 0


def test_addresses_and_networks() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert network_of("192.0.2.7") == network_of("192.0.2.200") == "192.0.2.0/24"
    assert network_of("2001:db8:0:1::5") == "2001:db8:0:1::/64"
    assert address_key("testclient") == "testclient"


@pytest.mark.anyio
async def test_a_shared_failure_budget_is_learnt_at_the_next_failure() -> None:
    """Two processes' host-API lookup budgets sharing one (here a local one stands for the
    front's or Redis's): past the shared limit, each refuses from its next failure on."""
    everywhere = LocalBudget(3, 60)
    here, there = FailureBudget(10, 60), FailureBudget(10, 60)
    here.share(everywhere)
    there.share(everywhere)
    for budget in (here, there, here):
        await budget.failed("api:10.0.0.1")
    assert here.retry_after("api:10.0.0.1") is None, "three failures fit the shared three"
    await there.failed("api:10.0.0.1")
    wait = there.retry_after("api:10.0.0.1")
    assert wait is not None
    assert 0 < wait <= 60
    assert here.retry_after("api:10.0.0.1") is None, "not yet learnt here"
    await here.failed("api:10.0.0.1")
    assert here.retry_after("api:10.0.0.1") is not None
    assert here.retry_after("api:10.0.0.2") is None, "another client is not touched"


def test_a_failure_budget_alone_counts_its_own_failures() -> None:
    budget = FailureBudget(2, 60)
    assert budget.retry_after("k") is None
    asyncio.run(budget.failed("k"))
    asyncio.run(budget.failed("k"))
    wait = budget.retry_after("k")
    assert wait is not None
    assert 0 < wait <= 60


@pytest.mark.anyio
async def test_an_unreachable_shared_budget_leaves_each_process_its_own() -> None:
    """Redis gone (a client of a port nothing listens on): guesses and failed lookups are
    still counted, by this process alone, and nothing raises."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    client = connect(f"redis://127.0.0.1:{port}")  # as a node connects
    try:
        joins = JoinAttempts()
        joins.share(SharedBudget(client, "join-address", 5, 300))
        attempts = [await joins.start("10.0.0.1", "m") for _ in range(6)]
        assert all(isinstance(a, JoinAttempt) for a in attempts[:5])
        assert isinstance(attempts[5], float), "this process's five still bound the address"
        lookups = FailureBudget(2, 60)
        lookups.share(SharedBudget(client, "api-lookup", 2, 60))
        await lookups.failed("api:10.0.0.1")
        await lookups.failed("api:10.0.0.1")
        assert lookups.retry_after("api:10.0.0.1") is not None
    finally:
        await client.aclose()
