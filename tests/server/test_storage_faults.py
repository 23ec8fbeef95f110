"""Storage faults while a file is shared: a full disk, a read-only files directory, a
failed database. The person sharing is told what went wrong and what to do, nothing
half-stored stays behind or is offered, and the meeting goes on.

Real faults on real disks (tests/support/disks.py): a tmpfs filled to the last
byte or remounted read-only, and an ext4 image shut down the way ext4 fails a
disk after an I/O error. A real server process; the bot uses the SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import pytest
from support.disks import fill, loop_disk, read_only, shut_down, small_disk, unfill
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import ApiError, FileShared, MeetingClient

pytestmark = pytest.mark.anyio

NOTES = b"Minutes: the budget passes; the release ships on Friday.\n" * 64


def _mounted(stack: ExitStack, disk: object) -> Path:
    where = stack.enter_context(disk)  # type: ignore[call-overload]
    if isinstance(where, str):
        pytest.skip(where)
    assert isinstance(where, Path)
    return where


@pytest.fixture
def disks(tmp_path: Path) -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@asynccontextmanager
async def meeting_with_guest(server: RunningServer) -> AsyncIterator[tuple[Hosted, MeetingClient]]:
    meeting = await hosted_meeting(server.url, {"file_share": {"allowed": "anyone"}})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    try:
        await admit(meeting.host, guest)
        yield meeting, guest
    finally:
        await guest.close()
        await meeting.close()


def files_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


async def shared_and_seen(meeting: Hosted, guest: MeetingClient) -> None:
    """The guest shares a file; the host hears of it: file sharing works (again)."""
    shared = await guest.share_file(NOTES, name="minutes.txt", content_type="text/plain")
    await meeting.host.wait_for(FileShared, lambda e: e.message.file_id == shared.file_id)


async def test_a_full_disk_refuses_the_file_clearly_and_the_meeting_goes_on(
    tmp_path: Path, disks: ExitStack
) -> None:
    disk = _mounted(disks, small_disk(tmp_path / "disk", size="16m"))
    server = RunningServer(disk / "data").start()
    try:
        async with meeting_with_guest(server) as (meeting, guest):
            fill(disk)
            with pytest.raises(ApiError) as refused:
                await guest.share_file(NOTES, name="minutes.txt", content_type="text/plain")
            assert (refused.value.status, refused.value.reason) == (507, "file_not_stored")
            assert "disk is full" in refused.value.detail
            assert "Nothing was shared" in refused.value.detail
            assert files_in(disk / "data" / "files") == [], "no partial file is left"
            assert (await meeting.host.raise_hand()).allowed, "the meeting goes on"
            unfill(disk)
            await shared_and_seen(meeting, guest)
        assert any("an upload was not stored" in line for line in server.log)
    finally:
        server.stop()


async def test_a_read_only_files_directory_refuses_the_file_clearly(
    tmp_path: Path, disks: ExitStack
) -> None:
    files = _mounted(disks, small_disk(tmp_path / "files"))
    server = RunningServer(tmp_path / "data", extra_args=["--files-dir", str(files)]).start()
    try:
        async with meeting_with_guest(server) as (meeting, guest):
            read_only(files)
            with pytest.raises(ApiError) as refused:
                await guest.share_file(NOTES, name="minutes.txt", content_type="text/plain")
            assert (refused.value.status, refused.value.reason) == (503, "file_not_stored")
            assert "read-only" in refused.value.detail
            read_only(files, on=False)
            await shared_and_seen(meeting, guest)
    finally:
        server.stop()


async def test_a_failed_database_refuses_the_file_and_deletes_what_was_received(
    tmp_path: Path, disks: ExitStack
) -> None:
    database = _mounted(disks, loop_disk(tmp_path / "database"))
    files = tmp_path / "files"
    server = RunningServer(database, extra_args=["--files-dir", str(files)]).start()
    try:
        async with meeting_with_guest(server) as (meeting, guest):
            await shared_and_seen(meeting, guest)
            before = files_in(files)
            shut_down(database)
            with pytest.raises(ApiError) as refused:
                await guest.share_file(NOTES, name="later.txt", content_type="text/plain")
            assert (refused.value.status, refused.value.reason) == (503, "file_not_stored")
            assert "database refused the write" in refused.value.detail
            assert files_in(files) == before, "the received bytes are deleted, never offered"
            assert (await guest.raise_hand()).allowed, "the meeting goes on"
    finally:
        server.stop()
