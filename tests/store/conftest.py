"""Fixtures for the store's tests: every test runs on a SQLite file and on a real PostgreSQL.

The PostgreSQL server (one per session, started on first use) comes from
``support.postgres``, which the end-to-end server tests share. Each test gets
a database of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared

from meetwarden.server.store import AuditEntry, MeetingRecord, Store


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the server's loop) through anyio's pytest plugin."""
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file not yet created, or a new PostgreSQL db."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'meetwarden.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """An open store on the test's database, closed at the end."""
    opened = await Store.open(database_url)
    yield opened
    await opened.close()


def _make_meeting(meeting_id: str = "meeting-1", **changes: Any) -> MeetingRecord:
    """A meeting record with plausible values; keyword arguments replace fields."""
    values: dict[str, Any] = {
        "id": meeting_id,
        "name": "Board meeting",
        "created_at": 1_700_000_000.25,
        "ended_at": None,
        "locked": False,
        "password_hash": None,
        "policy_revision": 1,
        "policy_document": '{"entry": {"waiting_room": "everyone"}}',
        "host_key": f"host-key-of-{meeting_id}",
    }
    values.update(changes)
    return MeetingRecord(**values)


def _make_entry(meeting_id: str = "meeting-1", number: int = 0, **changes: Any) -> AuditEntry:
    """An audit entry; ``number`` varies its time and decision id."""
    values: dict[str, Any] = {
        "meeting_id": meeting_id,
        "at": 1_700_000_100.0 + number,
        "decision_id": f"decision-{number}",
        "policy_revision": 1,
        "event_type": "JoinRequested",
        "event": {"type": "JoinRequested", "name": "Ada Lovelace", "number": number},
        "allowed": True,
        "reason": "admitted",
        "rule": "/entry/waiting_room",
        "message": "Ada Lovelace was admitted.",
        "actor": None,
        "participant": "p-ada",
        "effects": [{"type": "admit", "participant": "p-ada"}],
    }
    values.update(changes)
    return AuditEntry(**values)


@pytest.fixture
def make_meeting() -> Callable[..., MeetingRecord]:
    """Build a meeting record: ``make_meeting("id", locked=True)``."""
    return _make_meeting


@pytest.fixture
def make_entry() -> Callable[..., AuditEntry]:
    """Build an audit entry: ``make_entry("meeting-id", 3, reason="denied")``."""
    return _make_entry
