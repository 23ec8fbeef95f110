"""A meeting's places are written only by its newest holder (fencing by claim generation)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from meetwarden.server.store import FencedOutError, MeetingRecord, PlacesSave, Store

pytestmark = pytest.mark.anyio


async def test_only_the_newest_holder_writes_the_places(
    database_url: str, make_meeting: Callable[..., MeetingRecord]
) -> None:
    old, new = await Store.open(database_url), await Store.open(database_url)
    try:
        await old.create_meeting(make_meeting())
        await old.hold_meeting("meeting-1", 1)
        await old.save_room_state("meeting-1", '{"by": "old"}', at=1.0, holder=1)
        await new.hold_meeting("meeting-1", 2)  # taken over
        await new.save_room_state("meeting-1", '{"by": "new"}', at=2.0, holder=2)
        with pytest.raises(FencedOutError):
            await old.save_room_state("meeting-1", '{"by": "old, late"}', at=3.0, holder=1)
        with pytest.raises(FencedOutError):
            await old.forget_room_state("meeting-1", holder=1)
        with pytest.raises(FencedOutError):
            await old.hold_meeting("meeting-1", 1)
        with pytest.raises(FencedOutError):
            await old.replace_policy("meeting-1", "{}", at=3.0, by="host", holder=1)
        with pytest.raises(FencedOutError):
            await old.end_meeting("meeting-1", 3.0, holder=1)
        assert await new.room_state("meeting-1") == '{"by": "new"}'
        assert await new.meeting_holder("meeting-1") == 2
        record = await new.get_meeting("meeting-1")
        assert record is not None
        assert (record.policy_revision, record.ended_at) == (1, None)
        assert await new.replace_policy("meeting-1", "{}", at=4.0, by="host", holder=2) == 2
    finally:
        await old.close()
        await new.close()


async def test_holders_loading_at_once_leave_the_newest_recorded(
    database_url: str, make_meeting: Callable[..., MeetingRecord]
) -> None:
    stores = [await Store.open(database_url) for _ in range(4)]
    try:
        await stores[0].create_meeting(make_meeting())
        outcomes = await asyncio.gather(
            *(store.hold_meeting("meeting-1", n + 1) for n, store in enumerate(stores)),
            return_exceptions=True,
        )
        assert all(o is None or isinstance(o, FencedOutError) for o in outcomes), outcomes
        assert outcomes[-1] is None  # the newest is never refused
        assert await stores[0].meeting_holder("meeting-1") == 4
    finally:
        for store in stores:
            await store.close()


async def test_places_saved_together_skip_only_the_meetings_another_node_holds(
    database_url: str, make_meeting: Callable[..., MeetingRecord]
) -> None:
    old, new = await Store.open(database_url), await Store.open(database_url)
    try:
        for meeting_id in ("kept", "taken", "alone", "emptied"):
            await old.create_meeting(make_meeting(meeting_id))
        await old.save_room_state("emptied", '{"people": 1}', at=1.0)
        await old.hold_meeting("kept", 1)
        await old.hold_meeting("taken", 1)
        await new.hold_meeting("taken", 2)  # taken over
        await new.save_room_state("taken", '{"by": "new"}', at=2.0, holder=2)
        fenced = await old.save_room_states(
            [
                PlacesSave("kept", '{"v": 1}', 3.0, holder=1),
                PlacesSave("taken", '{"by": "old, late"}', 3.0, holder=1),
                PlacesSave("alone", '{"v": 1}', 3.0),  # a node alone names no claim
                PlacesSave("kept", '{"v": 2}', 3.1, holder=1),  # the last one counts
                PlacesSave("emptied", None, 3.0),  # everyone left: forgotten
            ]
        )
        assert fenced == {"taken"}
        assert await new.room_state("kept") == '{"v": 2}'
        assert await new.room_state("alone") == '{"v": 1}'
        assert await new.room_state("taken") == '{"by": "new"}'
        assert await new.room_state("emptied") is None
    finally:
        await old.close()
        await new.close()
