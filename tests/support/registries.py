"""A Registry in the test's own process, on a real SQLite file: the Room runtime without
a server process (joins, decisions and what they store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from meetwarden.server.auth import Passwords, Tokens
from meetwarden.server.runtime.audit import AuditWriter
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.writes import StoreWrites
from meetwarden.server.store import Store

__all__ = ["registry_on"]


@asynccontextmanager
async def registry_on(database: Path, **options: Any) -> AsyncIterator[Registry]:
    """A started Registry on the SQLite file ``database`` (``options`` go to Registry);
    everything it started is closed at the end."""
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    audit, writes = AuditWriter(store), StoreWrites()
    audit.start()
    writes.start()
    registry = Registry(
        store=store,
        tokens=Tokens(b"k" * 32),
        passwords=Passwords(),
        audit=audit,
        writes=writes,
        idle_seconds=3600,
        **options,
    )
    try:
        yield registry
    finally:
        await registry.close()
        await writes.close()
        await audit.close()
        await store.close()
