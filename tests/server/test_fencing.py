"""A node that lost a meeting to another node stores nothing more for it.

With several nodes, each takeover of a meeting raises its claim generation
(server/cluster/placement.py), and the node that loads the meeting records it
in the shared database. A node that stalled past its lease can wake up with
decisions still to save: the store refuses them, so what the meeting's new
node decided stays, and the stale node closes the meeting, its people told
to reconnect (1012), which sends them to the new node. In process: one
Registry as the stale node, a second store on the same SQLite file as the
node that took over.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.registries import registry_on

from meetwarden import protocol as wire
from meetwarden.policies.events import (
    EndMeetingRequested,
    HandRaised,
    JoinRequested,
    LockRequested,
    PolicyUpdateRequested,
)
from meetwarden.policies.loading import validate_policy
from meetwarden.server.runtime.decided import Decided
from meetwarden.server.runtime.registry import MeetingElsewhereError, Registry
from meetwarden.server.runtime.room import Room
from meetwarden.server.runtime.session import Session
from meetwarden.server.store import FencedOutError, Store

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]
FIRST_CLAIM = 7
"""The generation under which the stale node located its meetings."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def stale_node(tmp_path: Path) -> AsyncIterator[Registry]:
    async with registry_on(
        tmp_path / "meetwarden.db", holder_of=lambda meeting_id: FIRST_CLAIM
    ) as running:
        yield running


@pytest.fixture
async def new_node(tmp_path: Path, stale_node: Registry) -> AsyncIterator[Store]:
    """The store as the node that takes meetings over sees it (the same database)."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'meetwarden.db'}")
    yield store
    await store.close()


async def test_a_node_whose_meeting_was_taken_over_stores_nothing_more_and_lets_it_go(
    stale_node: Registry, new_node: Store
) -> None:
    meeting_id, room, host = await _hosted(stale_node)
    await room.submit(LockRequested(actor="h", locked=True))
    await _stored(new_node, meeting_id, ["Alice Host"])  # control: its saves land

    # Another node takes the meeting over and stores its own people's places.
    await new_node.hold_meeting(meeting_id, FIRST_CLAIM + 1)
    theirs = json.dumps({"people": []})
    await new_node.save_room_state(meeting_id, theirs, at=1.0, holder=FIRST_CLAIM + 1)

    # The stale node wakes up with a decision to save: refused, and the meeting let go.
    raised = await room.submit(HandRaised(participant="h"))
    assert raised.allowed
    await _closed(host)  # its save was refused: the meeting is let go
    await stale_node.writes.flush()
    assert await new_node.room_state(meeting_id) == theirs, "the stale node overwrote the places"
    assert host.close_code == wire.CLOSE_SERVICE_RESTART
    assert stale_node.held(meeting_id) is None
    with pytest.raises(MeetingElsewhereError):  # it cannot load the meeting back either
        await stale_node.room(meeting_id)


async def test_a_holder_older_than_the_recorded_one_is_refused_and_one_node_never_is(
    stale_node: Registry, new_node: Store
) -> None:
    created = await stale_node.create_meeting({}, None)
    meeting_id = created.meeting_id
    await new_node.hold_meeting(meeting_id, 3)
    await new_node.hold_meeting(meeting_id, 3)  # the same holder loading again
    with pytest.raises(FencedOutError, match="taken over by another node"):
        await new_node.hold_meeting(meeting_id, 2)
    with pytest.raises(FencedOutError):
        await new_node.forget_room_state(meeting_id, holder=2)
    await new_node.save_room_state(meeting_id, "{}", at=1.0)  # no cluster: no holder
    assert await new_node.room_state(meeting_id) == "{}"
    assert await new_node.meeting_holder(meeting_id) == 3


async def _stored(store: Store, meeting_id: str, names: list[str]) -> None:
    """Until the meeting's stored places name ``names`` (saved shortly after a decision)."""
    for _ in range(200):
        if _names(await store.room_state(meeting_id)) == names:
            return
        await asyncio.sleep(0.05)  # polled: the store has no event to wait on
    raise AssertionError(f"the places were not stored naming {names} within 10 s")


async def _closed(session: Session) -> None:
    """Until the server closes the session (its writer would close the socket)."""
    async with asyncio.timeout(10):
        while await session.outbox.get() is not None:
            pass


async def _hosted(registry: Registry) -> tuple[str, Room, Session]:
    """A meeting loaded on ``registry`` with its host in it."""
    created = await registry.create_meeting({}, None)
    room = await registry.room(created.meeting_id)
    assert room is not None
    host = Session("h", device_id="d-h", device_token="t")
    joined = await room.join(JoinRequested(participant="h", name="Alice Host", role="host"), host)
    assert joined.allowed
    return created.meeting_id, room, host


def _names(document: str | None) -> list[str]:
    return [person["name"] for person in json.loads(document or "{}").get("people", [])]


async def test_a_lock_decided_by_a_node_that_lost_the_meeting_is_not_stored(
    stale_node: Registry, new_node: Store
) -> None:
    meeting_id, room, host = await _hosted(stale_node)
    await _stored(new_node, meeting_id, ["Alice Host"])  # nothing of the join left to write
    await new_node.hold_meeting(meeting_id, FIRST_CLAIM + 1)  # taken over

    locked = await room.submit(LockRequested(actor="h", locked=True))
    assert locked.allowed  # decided at the stale node, which does not know yet
    await _closed(host)
    await stale_node.writes.flush()
    record = await new_node.get_meeting(meeting_id)
    assert record is not None
    assert record.locked is False, "the stale node's lock was stored"


async def test_a_policy_replaced_by_a_node_that_lost_the_meeting_is_not_stored(
    stale_node: Registry, new_node: Store
) -> None:
    meeting_id, room, host = await _hosted(stale_node)
    await _replace_policy(room, {"entry": {"max_participants": 50}})
    await stale_node.writes.flush()
    assert [v.revision for v in await new_node.policy_versions(meeting_id)] == [1, 2]  # control
    await new_node.hold_meeting(meeting_id, FIRST_CLAIM + 1)  # taken over

    replaced = await _replace_policy(room, {"entry": {"max_participants": 20}})
    assert replaced.allowed  # decided at the stale node, which does not know yet
    await _closed(host)
    await stale_node.writes.flush()
    assert host.close_code == wire.CLOSE_SERVICE_RESTART
    assert [v.revision for v in await new_node.policy_versions(meeting_id)] == [1, 2], (
        "the stale node's policy was stored"
    )
    record = await new_node.get_meeting(meeting_id)
    assert record is not None
    assert record.policy_revision == 2


async def test_an_end_decided_by_a_node_that_lost_the_meeting_is_not_stored(
    stale_node: Registry, new_node: Store
) -> None:
    meeting_id, room, host = await _hosted(stale_node)
    let_go: list[str] = []

    async def ended(meeting: str) -> None:  # where the meeting's files are deleted
        let_go.append(meeting)

    stale_node.when_ended(ended)
    await _stored(new_node, meeting_id, ["Alice Host"])
    await new_node.hold_meeting(meeting_id, FIRST_CLAIM + 1)  # taken over

    assert (await room.submit(EndMeetingRequested(actor="h"))).allowed
    await _closed(host)
    await stale_node.writes.flush()
    record = await new_node.get_meeting(meeting_id)
    assert record is not None
    assert record.ended_at is None, "the stale node's end was stored"
    assert _names(await new_node.room_state(meeting_id)) == ["Alice Host"], "places forgotten"
    assert let_go == [], "the stale node let the meeting's files go"
    assert stale_node.held(meeting_id) is None

    # Control: the node that holds the meeting now ends it, and that is stored.
    await new_node.end_meeting(meeting_id, 5.0, holder=FIRST_CLAIM + 1)
    record = await new_node.get_meeting(meeting_id)
    assert record is not None
    assert record.ended_at == 5.0


async def _replace_policy(room: Room, document: dict[str, Any]) -> Decided:
    return await room.submit(
        PolicyUpdateRequested(actor="h", policy=validate_policy(document)),
        context={"policy_document": document, "by": "h"},
    )
