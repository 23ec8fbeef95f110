"""The Room as a unit: one inbox, nothing slow inside it, released when over.

These run the Room in this process on a real SQLite file (no media), so that
a test can hold the database's write lock from outside, the way a stuck disk
or a long transaction would, and watch the meeting go on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.disks import fill, loop_disk, shut_down, small_disk, unfill

from meetwarden import protocol as wire
from meetwarden.policies.events import (
    AdmitRequested,
    EndMeetingRequested,
    HandRaised,
    JoinRequested,
    Left,
    LockRequested,
    PolicyUpdateRequested,
)
from meetwarden.policies.loading import validate_policy
from meetwarden.server.auth import Passwords, Tokens
from meetwarden.server.runtime.audit import AuditWriter
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.room import Room, RoomClosedError
from meetwarden.server.runtime.session import Session
from meetwarden.server.runtime.writes import StoreWrites
from meetwarden.server.store import Store

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _messages(session: Session) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while not session.outbox.empty():
        text = session.outbox.get_nowait()
        if text is not None:
            out.append(wire.SERVER_ADAPTER.validate_json(text).model_dump())
    return out


async def _room_with_host(registry: Registry, policy: dict[str, Any]) -> tuple[Room, Session]:
    created = await registry.create_meeting(policy, None)
    room = await registry.room(created.meeting_id)
    assert room is not None
    host = Session("h", device_id="d-h", device_token="t")
    joined = await room.join(JoinRequested(participant="h", name="Alice Host", role="host"), host)
    assert joined.allowed
    return room, host


async def test_a_stuck_database_write_does_not_hold_the_meeting(
    registry: Registry, tmp_path: Path
) -> None:
    room, _host = await _room_with_host(registry, {})
    # Another process holds the database's write lock, as a long transaction would.
    blocker = sqlite3.connect(tmp_path / "meetwarden.db", timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        locked = await asyncio.wait_for(room.submit(LockRequested(actor="h", locked=True)), 5)
        assert locked.allowed
        guest = Session("g", device_id="d-g", device_token="t")
        waiting = await asyncio.wait_for(
            room.join(JoinRequested(participant="g", name="Bob Smith"), guest), 5
        )
        assert waiting.reason == "meeting_locked"  # decided on the new state, at once
        hand = await asyncio.wait_for(room.submit(HandRaised(participant="h")), 5)
        assert hand.allowed
        record = await asyncio.to_thread(_locked_in_file, tmp_path)
        assert record is False, "the write waits for the lock; the meeting did not"
    finally:
        blocker.rollback()
        blocker.close()
    await registry.writes.flush()
    assert await asyncio.to_thread(_locked_in_file, tmp_path) is True


def _locked_in_file(tmp_path: Path) -> bool | None:
    reader = sqlite3.connect(tmp_path / "meetwarden.db", timeout=0.1)
    try:
        row = reader.execute("SELECT locked FROM meetings").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        reader.close()
    return bool(row[0]) if row else None


async def test_every_decision_a_person_hears_carries_the_audit_logs_id(
    registry: Registry,
) -> None:
    room, _host = await _room_with_host(registry, {})
    guest = Session("g", device_id="d-g", device_token="t")
    await room.join(JoinRequested(participant="g", name="Bob Smith"), guest)
    admitted = await room.submit(AdmitRequested(actor="h", participant="g"))
    await registry.audit.flush()
    logged = {entry.decision_id for entry in await registry.store.audit(room.meeting_id)}
    said = [m for m in _messages(guest) if m.get("decision_id")]
    assert {m["type"] for m in said} >= {"waiting", "admitted"}
    assert {m["decision_id"] for m in said} <= logged
    assert admitted.decision_id in logged


async def test_an_audit_entry_that_cannot_be_made_loses_only_itself(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries are made with the batch that writes them: one whose making fails is logged
    and left out, and the decisions around it are stored."""
    room, _host = await _room_with_host(registry, {})

    def broken() -> Any:
        raise ValueError("no entry")

    registry.audit.append(broken)
    raised = await room.submit(HandRaised(participant="h"))
    await registry.audit.flush()
    logged = [entry.decision_id for entry in await registry.store.audit(room.meeting_id)]
    assert raised.decision_id in logged
    assert len(logged) == 2  # the host's join and the hand
    assert "could not make an audit entry" in caplog.text


async def test_an_ended_meeting_is_released_and_stays_ended(registry: Registry) -> None:
    room, _host = await _room_with_host(registry, {})
    ended = await room.submit(EndMeetingRequested(actor="h"))
    assert ended.allowed
    await registry.writes.flush()
    assert room.closed
    assert registry.live() == []
    assert await registry.room(room.meeting_id) is None
    with pytest.raises(RoomClosedError):
        await room.submit(HandRaised(participant="h"))


async def test_an_idle_meeting_is_released_and_comes_back_as_the_store_keeps_it(
    registry: Registry,
) -> None:
    room, _host = await _room_with_host(registry, {})
    await room.submit(LockRequested(actor="h", locked=True))
    await room.submit(Left(participant="h"))
    await registry.writes.flush()
    registry.idle_seconds = 0.0
    assert registry.release_idle() == 1
    assert room.closed
    again = await registry.room(room.meeting_id)
    assert again is not None
    assert again is not room
    assert again.state.locked, "the lock came back from the store"


async def test_a_meeting_someone_is_in_is_never_released_as_idle(registry: Registry) -> None:
    room, _host = await _room_with_host(registry, {})
    registry.idle_seconds = 0.0
    assert registry.release_idle() == 0
    assert not room.closed


async def test_the_inbox_takes_work_in_the_order_it_came(registry: Registry) -> None:
    room, _host = await _room_with_host(registry, {})
    order: list[str] = []
    room.post(lambda: order.append("timer"))  # queued, as a timer firing is
    await room.submit(HandRaised(participant="h"), reply=lambda d: order.append("hand"))
    room.post(lambda: order.append("observation"))
    room.post(lambda: order.append("another"))
    await room.submit(LockRequested(actor="h", locked=True), reply=lambda d: order.append("lock"))
    assert order == ["timer", "hand", "observation", "another", "lock"], (
        "nothing overtakes work already in the inbox"
    )


@pytest.fixture(params=["disk full", "disk failed"])
def faulty_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A disk that fills up (tmpfs) or fails the way ext4 does after an I/O error."""
    fault: str = request.param
    disk = small_disk if fault == "disk full" else loop_disk
    with disk(tmp_path / "disk") as mounted:
        if isinstance(mounted, str):
            pytest.skip(mounted)
        yield mounted, fault


async def test_a_policy_the_disk_cannot_store_gives_the_host_an_error_and_the_old_one_stays(
    faulty_disk: tuple[Path, str],
) -> None:
    disk, fault = faulty_disk
    store = await Store.open(f"sqlite+aiosqlite:///{disk / 'meetwarden.db'}")
    audit, writes = AuditWriter(store), StoreWrites()
    audit.start()
    writes.start()
    registry = Registry(
        store=store, tokens=Tokens(b"k" * 32), passwords=Passwords(), audit=audit, writes=writes
    )
    try:
        room, host = await _room_with_host(registry, {"chat": {"allowed": "everyone"}})
        await writes.flush()
        fill(disk) if fault == "disk full" else shut_down(disk)
        document = {"chat": {"allowed": "host_only"}}
        decided = await room.submit(
            PolicyUpdateRequested(actor="h", policy=validate_policy(document)),
            context={"policy_document": document, "by": "h"},
        )
        assert decided.allowed  # the engine allowed it; the disk did not
        await writes.flush()
        await room.submit(HandRaised(participant="h"))  # after the write's outcome came in
        assert room.policy.chat.allowed == "everyone", "the previous policy is back in force"
        assert room.revision == 1
        told = [m for m in _messages(host) if m["type"] == "notice"]
        stored = [m for m in told if m["topic"] == "policy_not_stored"]
        assert len(stored) == 1
        assert "revision 1 is in force again" in stored[0]["text"]
        if fault == "disk failed":
            return  # a failed disk stays failed; the meeting went on without it
        unfill(disk)
        retried = await room.submit(
            PolicyUpdateRequested(actor="h", policy=validate_policy(document)),
            context={"policy_document": document, "by": "h"},
        )
        assert retried.allowed
        await writes.flush()
        assert [v.revision for v in await store.policy_versions(room.meeting_id)] == [1, 2]
    finally:
        await registry.close()
        await writes.close()
        await audit.close()
        await store.close()
