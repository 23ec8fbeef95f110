"""The audit log: appended in order, filtered, and append-only in the database itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from meetwarden.server.store import (
    AuditEntry,
    MeetingRecord,
    RecordNotFoundError,
    Store,
)

pytestmark = pytest.mark.anyio

MakeEntry = Callable[..., AuditEntry]


@pytest.fixture
async def meeting_id(store: Store, make_meeting: Callable[..., MeetingRecord]) -> str:
    await store.create_meeting(make_meeting("m"))
    await store.create_meeting(make_meeting("other"))
    return "m"


@pytest.fixture
async def varied_log(store: Store, meeting_id: str, make_entry: MakeEntry) -> list[AuditEntry]:
    """Seven entries of meeting "m" (one of "other" in between) differing in every filter."""
    entries = [
        make_entry("m", 0, participant="p-ada", actor=None),
        make_entry("m", 1, participant="p-bob", actor="host", event_type="Admit"),
        make_entry("m", 2, participant="p-eve", actor=None, allowed=False, reason="name_not_full"),
        make_entry("other", 3, participant="p-ada", actor="p-ada"),
        make_entry("m", 4, participant=None, actor="p-ada", event_type="Lock"),
        make_entry(
            "m",
            5,
            participant="p-eve",
            actor="p-eve",
            allowed=False,
            reason="share_not_granted",
            event_type="ShareRequested",
        ),
        make_entry("m", 6, participant="p-ada", actor="host", event_type="Mute"),
        make_entry("m", 7, participant=None, actor=None, event_type="GrantExpired"),
    ]
    await store.append_audit(entries[:4])
    await store.append_audit(entries[4:])
    return entries


def numbers(entries: list[AuditEntry]) -> list[int]:
    """The ``number`` each test entry was made with (it is in the event)."""
    return [entry.event["number"] for entry in entries]


async def test_appended_entries_read_back_whole_with_increasing_ids(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    # 2,500: more than one SQLite statement holds (it stores a batch 2,340 rows at a time).
    batch = [make_entry(meeting_id, number) for number in range(2500)]
    await store.append_audit(batch)
    stored = await store.audit(meeting_id, limit=3000)
    # Read back by id, the entries come in the order they were given.
    assert [dataclasses.replace(entry, id=None) for entry in stored] == batch
    ids = {entry.id for entry in stored if isinstance(entry.id, int)}
    assert len(ids) == 2500


async def test_json_event_and_effects_round_trip_with_unicode_and_nesting(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    entry = make_entry(
        meeting_id,
        event={"name": "Zoë 主持人", "nested": {"list": [1, 2.5, None, True]}, "number": 0},
        effects=[],
    )
    await store.append_audit([entry])
    [stored] = await store.audit(meeting_id)
    assert stored.event == entry.event
    assert stored.effects == []


async def test_a_sentences_params_round_trip_and_an_entry_may_have_none(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    with_params = make_entry(
        meeting_id, 0, params={"name": "Zoë 主持人", "seconds": 600, "allowed": ["window"]}
    )
    without = make_entry(meeting_id, 1)  # as the server records a file download
    await store.append_audit([with_params, without])
    first, second = await store.audit(meeting_id)
    assert first.params == {"name": "Zoë 主持人", "seconds": 600, "allowed": ["window"]}
    assert second.params is None
    assert second.message == without.message


async def test_later_batches_get_later_ids(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    for batch in range(3):
        await store.append_audit([make_entry(meeting_id, batch * 10 + n) for n in range(3)])
    assert numbers(await store.audit(meeting_id)) == [0, 1, 2, 10, 11, 12, 20, 21, 22]


async def test_concurrent_batches_and_readers_neither_fail_nor_interleave_within_a_batch(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    async def append(batch: int) -> None:
        await store.append_audit([make_entry(meeting_id, batch * 100 + n) for n in range(10)])
        await store.add_identities(meeting_id, "ban", [f"device:{batch}"], at=1.0)

    async def read() -> None:
        for _ in range(5):
            await store.audit(meeting_id, participant="p-ada")

    async with anyio.create_task_group() as group:
        for batch in range(20):
            group.start_soon(append, batch)
            group.start_soon(read)
    stored = numbers(await store.audit(meeting_id))
    assert len(stored) == 200
    for batch in range(20):
        mine = [number for number in stored if number // 100 == batch]
        assert mine == [batch * 100 + n for n in range(10)]
    bans, _ = await store.identities(meeting_id)
    assert len(bans) == 20


async def test_a_batch_naming_an_unknown_meeting_stores_nothing(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    batch = [make_entry(meeting_id, 0), make_entry("ghost", 1), make_entry(meeting_id, 2)]
    with pytest.raises(RecordNotFoundError, match="'ghost'"):
        await store.append_audit(batch)
    assert await store.audit(meeting_id) == []
    # Far into a long batch (SQLite stores it in several statements): still nothing.
    long = [make_entry(meeting_id, n) for n in range(2500)] + [make_entry("ghost", 2500)]
    with pytest.raises(RecordNotFoundError, match="'ghost'"):
        await store.append_audit(long)
    assert await store.audit(meeting_id) == []


async def test_an_entry_that_already_has_an_id_is_refused(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    with pytest.raises(ValueError, match="appended once"):
        await store.append_audit([make_entry(meeting_id, 0, id=7)])
    await store.append_audit([])
    assert await store.audit(meeting_id) == []


async def test_the_log_is_per_meeting(store: Store, varied_log: list[AuditEntry]) -> None:
    assert numbers(await store.audit("m")) == [0, 1, 2, 4, 5, 6, 7]
    assert numbers(await store.audit("other")) == [3]
    assert await store.audit("ghost") == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"participant": "p-ada"}, [0, 4, 6]),  # as participant or as actor
        ({"participant": "p-eve"}, [2, 5]),
        ({"actor": "host"}, [1, 6]),
        ({"actor": "p-ada"}, [4]),
        ({"reason": "name_not_full"}, [2]),
        ({"event_type": "ShareRequested"}, [5]),
        ({"allowed": False}, [2, 5]),
        ({"allowed": True}, [0, 1, 4, 6, 7]),
        ({"since": 1_700_000_104.0}, [4, 5, 6, 7]),
        ({"until": 1_700_000_104.0}, [0, 1, 2]),
        ({"since": 1_700_000_101.0, "until": 1_700_000_106.0}, [1, 2, 4, 5]),
        ({"limit": 2}, [0, 1]),
        ({"limit": 0}, []),
        ({"participant": "p-eve", "allowed": False, "reason": "share_not_granted"}, [5]),
        ({"participant": "nobody"}, []),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
async def test_each_filter_selects_what_it_names(
    store: Store, varied_log: list[AuditEntry], filters: dict[str, object], expected: list[int]
) -> None:
    assert numbers(await store.audit("m", **filters)) == expected  # type: ignore[arg-type]


async def test_pages_follow_on_with_after_id(store: Store, varied_log: list[AuditEntry]) -> None:
    pages: list[list[int]] = []
    last: int | None = None
    while page := await store.audit("m", after_id=last, limit=3):
        pages.append(numbers(page))
        last = page[-1].id
    assert pages == [[0, 1, 2], [4, 5, 6], [7]]


async def test_a_negative_limit_is_refused(store: Store, meeting_id: str) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.audit(meeting_id, limit=-1)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET allowed = NOT allowed",
        "UPDATE audit_entries SET reason = 'forged' WHERE decision_id = 'decision-0'",
        "DELETE FROM audit_entries",
        "DELETE FROM audit_entries WHERE decision_id = 'decision-1'",
    ],
)
async def test_the_database_refuses_to_change_or_delete_audit_rows(
    store: Store,
    database_url: str,
    meeting_id: str,
    make_entry: MakeEntry,
    statement: str,
) -> None:
    await store.append_audit([make_entry(meeting_id, n) for n in range(2)])
    before = await store.audit(meeting_id)
    engine = create_async_engine(database_url)
    try:
        with pytest.raises(DBAPIError, match="audit_entries is append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
    assert await store.audit(meeting_id) == before


async def test_postgresql_refuses_to_truncate_the_audit_log(
    postgres_server: Any, make_meeting: Callable[..., MeetingRecord], make_entry: MakeEntry
) -> None:
    url = postgres_server.new_database()
    store = await Store.open(url)
    try:
        await store.create_meeting(make_meeting("m"))
        await store.append_audit([make_entry("m", 0)])
        engine = create_async_engine(url)
        try:
            with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
                async with engine.begin() as connection:
                    await connection.execute(text("TRUNCATE audit_entries"))
        finally:
            await engine.dispose()
        assert len(await store.audit("m")) == 1
    finally:
        await store.close()


async def test_a_float_json_cannot_spell_is_refused_and_a_word_like_it_is_kept(
    store: Store, meeting_id: str, make_entry: MakeEntry
) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        await store.append_audit([make_entry(meeting_id, 0, params={"seconds": float("nan")})])
    assert await store.audit(meeting_id) == []
    named = make_entry(meeting_id, 1, event={"type": "chat", "text": "NaN and Infinity"})
    await store.append_audit([named])
    [stored] = await store.audit(meeting_id)
    assert stored.event == named.event
