"""One real server per test module; media on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from support.enforced import Scene
from support.server import RunningServer

from meetwarden.client_sdk.media import loopback_only


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("server-data")).start()
    yield running
    running.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _loopback() -> None:
    loopback_only()


@pytest.fixture
async def scene(server: RunningServer) -> AsyncIterator[Scene]:
    """Meetings and adversaries that are closed when the test ends, whatever its outcome."""
    opened = Scene(server.url)
    yield opened
    await opened.close()
