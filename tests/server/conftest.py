"""A real server (its own process, a real SQLite file) shared by a test module, and a
registry run in the test's own process on a real SQLite file of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.registries import registry_on
from support.server import RunningServer

from meetwarden.server.runtime.registry import Registry


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("server-data")).start()
    yield running
    running.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    """The server's runtime in this process (no HTTP in between), on a fresh database."""
    async with registry_on(tmp_path / "meetwarden.db") as running:
        yield running
