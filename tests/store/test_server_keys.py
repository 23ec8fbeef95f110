"""A shared key is made once: every node that opens the database reads the same value."""

from __future__ import annotations

import asyncio

import pytest

from meetwarden.server.store import Store

pytestmark = pytest.mark.anyio


async def test_the_first_value_offered_is_kept_and_read_by_everyone(database_url: str) -> None:
    first = await Store.open(database_url)
    second = await Store.open(database_url)
    try:
        kept = await first.shared_key("token_signing", "aa" * 32)
        assert kept == "aa" * 32
        assert await second.shared_key("token_signing", "bb" * 32) == kept
        assert await first.shared_key("other", "cc" * 32) == "cc" * 32  # one value per name
    finally:
        await first.close()
        await second.close()


async def test_nodes_starting_at_once_agree_on_one_value(database_url: str) -> None:
    stores = [await Store.open(database_url) for _ in range(4)]
    try:
        values = await asyncio.gather(
            *(store.shared_key("token_signing", f"{n:02x}" * 32) for n, store in enumerate(stores))
        )
        assert len(set(values)) == 1
        assert values[0] in {f"{n:02x}" * 32 for n in range(4)}
    finally:
        for store in stores:
            await store.close()
