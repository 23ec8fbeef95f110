"""A real server (its own process, a real SQLite file) shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.server import RunningServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("server-data")).start()
    yield running
    running.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
