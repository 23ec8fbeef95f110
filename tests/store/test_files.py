"""Shared files' metadata: pending until the engine decides, then shared; kept across restarts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from meetwarden.server.store import (
    FileRecord,
    MeetingRecord,
    RecordExistsError,
    RecordNotFoundError,
    Store,
)

pytestmark = pytest.mark.anyio


def _file(file_id: str, meeting_id: str = "m", created_at: float = 1.0) -> FileRecord:
    return FileRecord(
        id=file_id,
        meeting_id=meeting_id,
        participant="p_ada",
        sender_name="Ada Lovelace",
        name="notes.txt",
        size=5 * 1024 * 1024 * 1024,  # past 32 bits
        content_type="text/plain",
        sha256="0" * 64,
        created_at=created_at,
    )


@pytest.fixture
async def meeting_id(store: Store, make_meeting: Callable[..., MeetingRecord]) -> str:
    await store.create_meeting(make_meeting("m"))
    return "m"


async def test_a_file_is_pending_until_marked_shared(store: Store, meeting_id: str) -> None:
    await store.add_file(_file("f1"))
    assert await store.get_file("f1") == _file("f1")
    assert [record.id for record in await store.pending_files()] == ["f1"]
    await store.mark_file_shared("f1")
    stored = await store.get_file("f1")
    assert stored is not None
    assert stored.state == "shared"
    assert await store.pending_files() == []


async def test_undecided_files_are_listed_oldest_first_and_can_be_deleted(
    store: Store, meeting_id: str
) -> None:
    await store.add_file(_file("late", created_at=5.0))
    await store.add_file(_file("early", created_at=2.0))
    assert [record.id for record in await store.pending_files()] == ["early", "late"]
    assert await store.delete_file("early") is True
    assert await store.delete_file("early") is False
    assert await store.get_file("early") is None


async def test_ids_are_unique_and_files_belong_to_a_stored_meeting(
    store: Store, meeting_id: str
) -> None:
    await store.add_file(_file("f1"))
    with pytest.raises(RecordExistsError):
        await store.add_file(_file("f1"))
    with pytest.raises(RecordNotFoundError):
        await store.add_file(_file("f2", meeting_id="no-such-meeting"))
    with pytest.raises(RecordNotFoundError):
        await store.mark_file_shared("no-such-file")
    assert await store.get_file("f2") is None
