"""Uploads: limits enforced while receiving, and no partial file left behind, ever."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meetwarden.server.files.storage import (
    FileStore,
    UploadCancelledError,
    UploadTimeoutError,
    UploadTooLargeError,
)

pytestmark = pytest.mark.anyio

LIMITS = {"total_timeout": 10.0, "idle_timeout": 5.0}


class Sender:
    """A request body: yields ``chunks``, then does what ``then`` says; records what was read."""

    def __init__(self, chunks: list[bytes], then: str = "end") -> None:
        self.chunks = chunks
        self.then = then
        self.pulled = 0
        self.closed = False
        self.waiting = asyncio.Event()
        self.files_seen_while_sending: list[str] = []

    async def body(self, store: FileStore) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                self.files_seen_while_sending = sorted(p.name for p in store.root.iterdir())
                self.pulled += 1
                yield chunk
            if self.then == "hang":  # a sender that stops sending but keeps the connection
                self.waiting.set()
                await asyncio.Event().wait()
            elif self.then == "disconnect":
                raise ConnectionResetError("the client went away")
        finally:
            self.closed = True


def stored_names(store: FileStore) -> list[str]:
    return sorted(path.name for path in store.root.iterdir())


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


async def test_file_exactly_at_the_limit_is_stored_with_its_size_and_hash(
    store: FileStore,
) -> None:
    chunks = [b"a" * 400, b"b" * 400, b"c" * 200]
    sender = Sender(chunks)

    record = await store.receive(sender.body(store), max_bytes=1000, **LIMITS)

    content = b"".join(chunks)
    assert record.size == 1000
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert record.path.read_bytes() == content
    assert stored_names(store) == [record.file_id]  # no .part file left
    assert record.path.stat().st_mode & 0o777 == 0o600


async def test_limit_crossed_mid_stream_stops_reading_and_deletes_the_partial_file(
    store: FileStore,
) -> None:
    sender = Sender([b"x" * 1000] * 10)

    with pytest.raises(UploadTooLargeError, match="larger than the limit of 2500 bytes") as error:
        await store.receive(sender.body(store), max_bytes=2500, **LIMITS)

    assert error.value.code == "file_too_large"
    assert sender.pulled == 3  # the third chunk crossed the limit; nothing more was read
    assert sender.closed
    assert any(name.endswith(".part") for name in sender.files_seen_while_sending)
    assert stored_names(store) == []


async def test_declared_length_over_the_limit_is_refused_before_reading(
    store: FileStore,
) -> None:
    sender = Sender([b"x" * 10])

    with pytest.raises(UploadTooLargeError, match="2000 bytes, over the limit of 1000"):
        await store.receive(sender.body(store), max_bytes=1000, declared_size=2000, **LIMITS)

    assert sender.pulled == 0
    assert stored_names(store) == []


async def test_body_shorter_than_declared_is_refused_and_deleted(store: FileStore) -> None:
    sender = Sender([b"x" * 10])

    with pytest.raises(UploadCancelledError, match="after 10 bytes: 50 bytes were declared"):
        await store.receive(sender.body(store), max_bytes=1000, declared_size=50, **LIMITS)

    assert stored_names(store) == []


async def test_idle_sender_times_out_and_the_partial_file_is_deleted(store: FileStore) -> None:
    sender = Sender([b"x" * 100], then="hang")

    with pytest.raises(UploadTimeoutError, match=r"no data arrived for 0\.2 seconds") as error:
        await store.receive(
            sender.body(store), max_bytes=1000, total_timeout=10.0, idle_timeout=0.2
        )

    assert (error.value.which, error.value.code) == ("idle", "upload_timed_out")
    assert sender.closed
    assert stored_names(store) == []


async def test_slow_loris_sender_hits_the_total_timeout(store: FileStore) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:  # one byte every 20 ms: never idle for long, never done
            await asyncio.sleep(0.02)  # the slow sender's pace is what is tested
            yield b"x"

    with pytest.raises(UploadTimeoutError, match=r"did not finish within 0\.3 seconds") as error:
        await store.receive(trickle(), max_bytes=10_000, total_timeout=0.3, idle_timeout=1.0)

    assert error.value.which == "total"
    assert 0 < error.value.received < 30
    assert stored_names(store) == []


async def test_cancelled_upload_deletes_the_partial_file(store: FileStore) -> None:
    sender = Sender([b"x" * 100], then="hang")
    upload = asyncio.create_task(store.receive(sender.body(store), max_bytes=1000, **LIMITS))
    await sender.waiting.wait()
    assert [name.endswith(".part") for name in stored_names(store)] == [True]

    upload.cancel()  # what the server does when the client disconnects mid-request
    with pytest.raises(asyncio.CancelledError):
        await upload

    assert sender.closed
    assert stored_names(store) == []


async def test_body_that_fails_is_cancelled_and_deleted(store: FileStore) -> None:
    sender = Sender([b"x" * 100], then="disconnect")

    with pytest.raises(UploadCancelledError, match="ConnectionResetError") as error:
        await store.receive(sender.body(store), max_bytes=1000, **LIMITS)

    assert isinstance(error.value.__cause__, ConnectionResetError)
    assert error.value.received == 100
    assert stored_names(store) == []


async def test_upload_is_never_held_whole_in_memory(store: FileStore) -> None:
    chunk_size, count = 64 * 1024, 256  # 16 MiB

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield bytes(chunk_size)

    tracemalloc.start()
    try:
        record = await store.receive(body(), max_bytes=chunk_size * count, **LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert record.size == chunk_size * count
    assert peak < 8 * chunk_size  # a few chunks at a time, not 16 MiB


async def test_empty_chunks_are_skipped_and_ids_are_unguessable_and_distinct(
    store: FileStore,
) -> None:
    first = await store.receive(Sender([b"", b"ab", b""]).body(store), max_bytes=10, **LIMITS)
    second = await store.receive(Sender([b"ab"]).body(store), max_bytes=10, **LIMITS)

    assert first.size == 2
    assert first.file_id != second.file_id
    assert len(first.file_id) == 43  # 256 random bits, URL-safe base64
    assert first.sha256 == second.sha256


async def test_download_and_delete_by_id(store: FileStore) -> None:
    record = await store.receive(Sender([b"hello"]).body(store), max_bytes=10, **LIMITS)

    with store.open(record.file_id) as download:
        assert download.read() == b"hello"
    assert store.delete(record.file_id)
    assert not store.delete(record.file_id)
    with pytest.raises(FileNotFoundError):
        store.open(record.file_id)


@pytest.mark.parametrize(
    "file_id", ["../files", "..", "/etc/passwd", "a" * 42, "a" * 43 + ".part", "a/" + "b" * 41]
)
async def test_ids_not_made_by_the_server_are_refused(store: FileStore, file_id: str) -> None:
    with pytest.raises(ValueError, match="not a file id"):
        store.open(file_id)
    with pytest.raises(ValueError, match="not a file id"):
        store.delete(file_id)


async def test_partial_files_left_by_a_crash_are_swept(store: FileStore) -> None:
    (store.root / ("a" * 43 + ".part")).write_bytes(b"half")
    kept = await store.receive(Sender([b"whole"]).body(store), max_bytes=10, **LIMITS)

    assert store.sweep_partials() == 1
    assert stored_names(store) == [kept.file_id]
