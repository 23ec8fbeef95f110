"""Fixtures for the file-sharing tests: real files on disk and a real clamd.

The clamd itself is started by ``support.clamd`` (shared with the end-to-end
file-sharing tests in tests/server).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.clamd import EICAR, EICAR_SIGNATURE, Clamd, start_clamd


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the server's loop) through anyio's pytest plugin."""
    return "asyncio"


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """One clamd for the session, on a Unix socket in a temporary directory."""
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield daemon
    daemon.stop()


@pytest.fixture
def start_another_clamd(tmp_path: Path) -> Iterator[Callable[..., Clamd]]:
    """Start a private clamd (for a test that stops it); stopped at the end in any case."""
    started: list[Clamd] = []

    def start(*, tcp: bool = False) -> Clamd:
        daemon = start_clamd(tmp_path / f"clamd{len(started)}", tcp=tcp)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop(signal.SIGKILL)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write bytes to a new file in the test's directory and return its path."""

    def write(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


@pytest.fixture
def eicar() -> bytes:
    """The EICAR test file's 68 bytes."""
    return EICAR


@pytest.fixture
def eicar_signature() -> str:
    """The name clamd reports for EICAR with our database (".UNOFFICIAL": not from ClamAV)."""
    return EICAR_SIGNATURE + ".UNOFFICIAL"
