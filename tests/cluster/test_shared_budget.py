"""Sign-in guessing budgets counted in Redis for every node (server/cluster/attempts.py).

What a guesser meets: attempts made at once through several nodes' clients cannot
overrun the budget, a right guess gives its attempt back, and the wait told is the
time until the oldest attempt leaves the window.
"""

from __future__ import annotations

import asyncio

import pytest
from support.redis import RedisServer

from meetwarden.server.cluster import Keys, SharedBudget, connect

pytestmark = pytest.mark.anyio


async def test_attempts_at_once_from_several_nodes_count_against_one_budget(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    clients = [connect(redis_server.url) for _ in range(3)]  # three nodes' connections
    try:
        budgets = [
            SharedBudget(client, "sign_in_address", 5, 900.0, Keys(redis_namespace))
            for client in clients
        ]
        waits = await asyncio.gather(
            *(budgets[n % 3].take("address:203.0.113.9") for n in range(30))
        )
        assert sum(wait is None for wait in waits) == 5
        assert all(0 < wait <= 900 for wait in waits if wait is not None)
        await budgets[1].give_back("address:203.0.113.9")  # a right guess: no guess
        assert await budgets[2].take("address:203.0.113.9") is None
        assert await budgets[0].take("address:203.0.113.9") is not None
        assert await budgets[0].take("address:198.51.100.4") is None  # its own budget
    finally:
        for client in clients:
            await client.aclose()


async def test_the_window_slides_on_redis_clock(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    client = connect(redis_server.url)
    try:
        budget = SharedBudget(client, "sign_in_account", 2, 0.5, Keys(redis_namespace))
        assert await budget.take("account:ada") is None
        assert await budget.take("account:ada") is None
        wait = await budget.take("account:ada")
        assert wait is not None
        assert 0 < wait <= 0.5
        await asyncio.sleep(wait + 0.05)  # the window is the behaviour under test
        assert await budget.take("account:ada") is None
        key = Keys(redis_namespace).attempts("sign_in_account") + "account:ada"
        # Forgotten after a window of quiet: an expiry is set (-1 would be none; -2, gone).
        left = await client.pttl(key)
        assert left in (-2, *range(501))
    finally:
        await client.aclose()
