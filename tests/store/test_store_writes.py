"""The Rooms' store writer: places handed over together are stored together, and one
meeting that cannot be stored does not cost the others theirs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from meetwarden.server.runtime.writes import StoreWrites
from meetwarden.server.store import MeetingRecord, PlacesSave, Store

pytestmark = pytest.mark.anyio


async def test_places_handed_over_together_are_all_stored_but_a_broken_one(
    store: Store, make_meeting: Callable[..., MeetingRecord]
) -> None:
    for meeting_id in ("north", "south", "taken"):
        await store.create_meeting(make_meeting(meeting_id))
    await store.hold_meeting("taken", 2)  # another node's, newer claim
    told: list[str] = []
    writes, order = StoreWrites(), []

    async def lock() -> None:
        order.append(await store.room_state("north"))  # a write between the places

    # Handed over before the writer runs: they wait for it together.
    writes.put_places(store, PlacesSave("north", '{"n": 1}', 1.0), lambda: told.append("north"))
    writes.put_places(store, PlacesSave("gone", '{"g": 1}', 1.0), lambda: told.append("gone"))
    writes.put_places(store, PlacesSave("taken", '{"t": 1}', 1.0, 1), lambda: told.append("taken"))
    writes.put("read between", lock)
    writes.put_places(store, PlacesSave("south", '{"s": 1}', 1.0), lambda: told.append("south"))
    writes.put_places(store, PlacesSave("north", '{"n": 2}', 2.0), lambda: told.append("north"))
    writes.start()
    try:
        await writes.flush()
    finally:
        await writes.close()
    assert order == ['{"n": 1}']  # in the order handed over
    assert await store.room_state("north") == '{"n": 2}'
    assert await store.room_state("south") == '{"s": 1}'
    assert await store.room_state("gone") is None  # no such meeting: logged, not stored
    assert await store.room_state("taken") is None
    assert told == ["taken"]
