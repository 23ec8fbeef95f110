"""File sharing end to end: a real server process, real libmagic, a real clamd.

Every refusal of issue 7 with its reason code and rule pointer, checked
through the SDK a bot uses; downloads only for admitted participants of the
meeting, with the headers the OWASP File Upload Cheat Sheet asks for; a grant
that runs out while the bytes arrive; the audit log; restart. No sleeps:
tests wait on events (a grant's expiry notice, a file_shared message).
"""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from support.clamd import EICAR, EICAR_SIGNATURE, Clamd, start_clamd
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    FileShared,
    GrantReceived,
    MeetingClient,
    NoticeReceived,
    PolicyRefusedError,
    Removed,
    WaitingListChanged,
)
from meetwarden.server.i18n import say
from meetwarden.server.store import Store

pytestmark = pytest.mark.anyio

# Longer than the shortest grant (5 s), so a body can wait for a grant to expire.
IDLE_TIMEOUT = 20


def png(trailer: bytes = b"") -> bytes:
    """A valid 1x1 PNG (CRCs computed), with ``trailer`` appended after IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
        + trailer
    )


def pdf() -> bytes:
    """A small valid PDF (libmagic needs only the header; the rest keeps it honest)."""
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240
NOTES = b"Meeting notes: ship the release on Friday.\n"


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, clamd: Clamd) -> Iterator[RunningServer]:
    args = ["--clamd-socket", str(clamd.socket_path), "--upload-idle-timeout", str(IDLE_TIMEOUT)]
    running = RunningServer(tmp_path_factory.mktemp("files-server"), extra_args=args).start()
    yield running
    running.stop()


def stored(server: RunningServer) -> set[str]:
    """The names in the server's files directory (ids, and ``.part`` while receiving)."""
    directory = server.data_dir / "files"
    return {path.name for path in directory.iterdir()} if directory.exists() else set()


@asynccontextmanager
async def meeting_with_guest(
    server: RunningServer, file_share: dict[str, Any], guest_name: str = "Bob Smith"
) -> AsyncIterator[tuple[Hosted, MeetingClient]]:
    """A meeting with this file_share policy, its host, and one admitted guest."""
    meeting = await hosted_meeting(server.url, {"file_share": file_share})
    guest: MeetingClient | None = None
    try:
        guest = await MeetingClient.connect(meeting.join_url, name=guest_name)
        await admit(meeting.host, guest)
        yield meeting, guest
    finally:
        if guest is not None:
            await guest.close()
        await meeting.close()


def pid(client: MeetingClient) -> str:
    assert client.participant_id is not None
    return client.participant_id


async def until(condition: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """The condition's first truthy value, checked every 50 ms (for what sends no event)."""
    async with asyncio.timeout(timeout):
        while True:
            value = await condition()
            if value:
                return value
            await asyncio.sleep(0.05)  # polling the disk, which raises no event


async def raw_download(
    server: RunningServer, meeting_id: str, file_id: str, token: str
) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{server.url}/api/meetings/{meeting_id}/files/{file_id}",
            headers={"Authorization": f"Bearer {token}"},
        )


async def audit_in_chinese(
    server: RunningServer, hosted: Hosted, event_type: str
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{server.url}/api/meetings/{hosted.meeting_id}/audit",
            params={"event_type": event_type},
            headers={"Authorization": f"Bearer {hosted.host_token}", "Accept-Language": "zh-CN"},
        )
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def chinese(english: str) -> str:
    return say("zh-CN", english)


# --- who may share --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "reason"),
    [
        ("nobody", "share_not_allowed"),
        ("host_only", "share_host_only"),
        ("with_grant", "share_needs_grant"),
    ],
)
async def test_a_participant_without_permission_is_refused_before_any_byte_is_kept(
    server: RunningServer, allowed: str, reason: str
) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": allowed}) as (meeting, guest):
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(NOTES, name="notes.txt", content_type="text/plain")
        assert (caught.value.reason, caught.value.rule) == (reason, "/file_share/allowed")
        entries = await meeting.api.audit(
            participant=pid(guest), event_type="file_upload_requested"
        )
        assert [(e["decision"]["allowed"], e["decision"]["reason"]) for e in entries] == [
            (False, reason)
        ]
        assert await meeting.api.audit(event_type="file_offered") == []
    assert stored(server) == before


async def test_a_refusal_is_problem_json_with_reason_rule_sentence_and_decision(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {"allowed": "host_only"}) as (meeting, guest):
        token = await guest.file_token()
        assert token.upload_path == f"/api/meetings/{meeting.meeting_id}/files"
        async with httpx.AsyncClient() as http:
            response = await http.post(
                server.url + token.upload_path,
                params={"name": "notes.txt"},
                content=NOTES,
                headers={"Authorization": f"Bearer {token.token}"},
            )
        logged = {e["decision_id"] for e in await meeting.api.audit(allowed=False)}
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["decision_id"] in logged, "the host's log holds the same decision"
    assert problem["reason"] == "share_host_only"
    assert problem["rule"] == "/file_share/allowed"
    assert problem["detail"] == "Only the host may share files in this meeting."
    decision_id = problem["decision_id"]
    assert problem["decision"] == {
        "allowed": False,
        "reason": "share_host_only",
        "rule": "/file_share/allowed",
        "params": {"kind": "file"},
        "message": "Only the host may share files in this meeting.",
        "decision_id": decision_id,
    }


# --- size -------------------------------------------------------------------------------


async def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read(
    server: RunningServer,
) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": "anyone", "max_bytes": 64 * 1024}) as (
        meeting,
        guest,
    ):
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(b"x" * (200 * 1024), name="big.txt", content_type="text/plain")
        assert (caught.value.reason, caught.value.rule) == (
            "file_too_large",
            "/file_share/max_bytes",
        )
        assert caught.value.message == "The file is 200 KB; files here can be at most 64 KB."
        entries = await meeting.api.audit(event_type="file_upload_requested")
        assert entries[-1]["event"]["declared_size"] == 200 * 1024
        assert entries[-1]["decision"]["reason"] == "file_too_large"
    assert stored(server) == before


async def test_a_file_larger_than_the_doors_default_body_limit_is_shared(
    server: RunningServer,
) -> None:
    """Bodies are capped at the door (server/door.py); uploads have their own limit there,
    and the policy's file_share.max_bytes is the one that counts."""
    size = 3 * 1024 * 1024  # ten times the door's default

    async def body() -> AsyncIterator[bytes]:  # chunked, and with a length below
        for _ in range(3):
            yield b"a" * (1024 * 1024)

    async with meeting_with_guest(server, {"allowed": "anyone", "max_bytes": 4 * size}) as (
        _,
        guest,
    ):
        chunked = await guest.share_file(body(), name="chunked.txt", content_type="text/plain")
        declared = await guest.share_file(b"b" * size, name="whole.txt", content_type="text/plain")
        assert chunked.size == declared.size == size


async def test_an_upload_that_grows_past_the_limit_is_stopped_and_its_partial_file_deleted(
    server: RunningServer,
) -> None:
    before = stored(server)

    async def body() -> AsyncIterator[bytes]:  # chunked: no size declared
        yield b"a" * 6000
        yield b"b" * 6000

    async with meeting_with_guest(server, {"allowed": "anyone", "max_bytes": 10_000}) as (
        meeting,
        guest,
    ):
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(body(), name="big.txt", content_type="text/plain")
        assert (caught.value.reason, caught.value.rule) == (
            "file_too_large",
            "/file_share/max_bytes",
        )
        asked = await meeting.api.audit(event_type="file_upload_requested")
        assert [(e["event"]["declared_size"], e["decision"]["allowed"]) for e in asked] == [
            (None, True)
        ]
        stopped = await meeting.api.audit(event_type="file_upload_stopped")
        assert [e["decision"]["reason"] for e in stopped] == ["file_too_large"]
        assert stopped[0]["event"]["received"] > 10_000
    assert stored(server) == before  # the partial file is gone


async def test_a_sender_that_goes_quiet_is_timed_out_and_its_partial_file_deleted(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path / "data", extra_args=["--upload-idle-timeout", "1"]).start()
    try:
        async with meeting_with_guest(server, {"allowed": "anyone"}) as (meeting, guest):
            token = await guest.file_token()
            # A slow-loris sender: a chunked body begun, then nothing, the connection kept.
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"POST {token.upload_path}?name=notes.txt HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {token.token}\r\n"
                "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                "b\r\nfirst part\n\r\n".encode()
            )
            await writer.drain()
            async with asyncio.timeout(15):
                answer = await reader.read()  # until the server closes the connection
            writer.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 ")
            assert b"connection: close" in head.lower()
            assert b'"reason":"upload_timed_out"' in body
            stopped = await meeting.api.audit(event_type="file_upload_stopped")
            assert [e["decision"]["reason"] for e in stopped] == ["upload_timed_out"]
        assert stored(server) == set()
    finally:
        server.stop()


async def test_an_upload_whose_sender_disconnects_leaves_no_file(server: RunningServer) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": "anyone"}) as (meeting, guest):
        token = await guest.file_token()
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST {token.upload_path}?name=notes.txt HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {token.token}\r\n"
            "Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n".encode()
            + b"x" * 1000
        )
        await writer.drain()

        async def partial() -> set[str]:
            return {name for name in stored(server) - before if name.endswith(".part")}

        assert await until(partial)  # the server is writing it
        writer.close()  # gone after 1000 of the 100000 bytes it declared
        await writer.wait_closed()

        async def stopped() -> list[dict[str, Any]]:
            return await meeting.api.audit(event_type="file_upload_stopped")

        assert [e["decision"]["reason"] for e in await until(stopped)] == ["upload_cancelled"]
    assert stored(server) == before


# --- what the content is ------------------------------------------------------------------


CONTENT_CASES = {
    "exe-named-pdf": (WINDOWS_PROGRAM, "invoice.pdf", "application/pdf", "file_type_forbidden"),
    "pdf-named-exe": (pdf(), "report.pdf.exe", None, "file_type_forbidden"),
    "html-named-png": (
        b"<!doctype html><script>1</script>",
        "a.png",
        "image/png",
        "file_type_forbidden",
    ),
    "png-named-pdf": (png(), "report.pdf", "application/pdf", "file_type_mismatch"),
    "pdf-declared-png": (pdf(), "report.pdf", "image/png", "file_type_mismatch"),
    "png-script-polyglot": (png(b"<script>1</script>"), "a.png", "image/png", "file_type_mismatch"),
    "gif-not-listed": (GIF, "cat.gif", "image/gif", "file_type_not_allowed"),
}


@pytest.mark.parametrize(
    ("content", "name", "content_type", "reason"),
    list(CONTENT_CASES.values()),
    ids=list(CONTENT_CASES),
)
async def test_a_file_is_judged_by_its_content_and_refused_with_its_own_reason(
    server: RunningServer, content: bytes, name: str, content_type: str | None, reason: str
) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": "anyone"}) as (meeting, guest):
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(content, name=name, content_type=content_type)
        assert (caught.value.reason, caught.value.rule) == (reason, "/file_share/types")
        offered = await meeting.api.audit(event_type="file_offered")
        assert [e["decision"]["reason"] for e in offered] == [reason]
    assert stored(server) == before


# --- the malware scan ---------------------------------------------------------------------


async def test_eicar_is_refused_as_infected_by_a_real_clamd_and_a_clean_file_passes(
    server: RunningServer,
) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": "anyone", "scan": True}) as (meeting, guest):
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(EICAR, name="eicar.txt", content_type="text/plain")
        assert (caught.value.reason, caught.value.rule) == ("file_infected", "/file_share/scan")
        assert stored(server) == before
        clean = await guest.share_file(NOTES, name="notes.txt", content_type="text/plain")
        assert clean.reason == "file_accepted"
        offered = await meeting.api.audit(event_type="file_offered")
    assert [(e["event"]["scan_result"], e["decision"]["reason"]) for e in offered] == [
        ("infected", "file_infected"),
        ("clean", "file_accepted"),
    ]
    assert any(f"found {EICAR_SIGNATURE}.UNOFFICIAL" in line for line in server.log)


async def test_when_the_scanner_is_down_a_file_is_refused_never_passed_unchecked(
    tmp_path: Path,
) -> None:
    daemon = start_clamd(tmp_path / "clamd")
    server = RunningServer(
        tmp_path / "data", extra_args=["--clamd-socket", str(daemon.socket_path)]
    ).start()
    try:
        async with meeting_with_guest(server, {"allowed": "anyone", "scan": True}) as (
            meeting,
            guest,
        ):
            assert (await guest.share_file(NOTES, name="a.txt")).reason == "file_accepted"
            daemon.stop()
            with pytest.raises(PolicyRefusedError) as caught:
                await guest.share_file(NOTES, name="b.txt", content_type="text/plain")
            assert (caught.value.reason, caught.value.rule) == (
                "file_scan_unavailable",
                "/file_share/scan",
            )
            offered = await meeting.api.audit(event_type="file_offered")
            assert [e["event"]["scan_result"] for e in offered] == ["clean", "unavailable"]
        assert len(stored(server)) == 1  # only the file scanned clean
    finally:
        server.stop()
        daemon.stop()


# --- sharing and downloading ---------------------------------------------------------------


async def test_a_granted_upload_is_seen_and_downloaded_by_another_participant_intact(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {"allowed": "with_grant"}) as (meeting, guest):
        assert (await guest.request_share("file")).reason == "share_request_sent"
        await meeting.host.grant(pid(guest), "file")
        await guest.wait_for(GrantReceived)
        content = pdf()
        shared = await guest.share_file(
            content, name="Q3 report.pdf", content_type="application/pdf"
        )
        assert (shared.reason, shared.rule, shared.content_type) == (
            "file_accepted",
            "/file_share/types",
            "application/pdf",
        )
        seen = await meeting.host.wait_for(FileShared)
        assert seen.message.file_id == shared.file_id
        assert (seen.message.name, seen.message.size, seen.message.content_type) == (
            "Q3 report.pdf",
            len(content),
            "application/pdf",
        )
        assert (seen.message.sender, seen.message.sender_name) == (pid(guest), "Bob Smith")
        got = await meeting.host.download_file(shared.file_id)
    assert got.content == content
    assert got.name == "Q3 report.pdf"
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"
    )


async def test_a_name_with_path_and_bidi_parts_is_shown_and_served_sanitised(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {"allowed": "anyone"}) as (meeting, guest):
        shared = await guest.share_file(
            NOTES, name="../../Ünïcode\u202e notes.txt", content_type="text/plain"
        )
        seen = await meeting.host.wait_for(FileShared)
        got = await meeting.host.download_file(shared.file_id)
    assert shared.name == seen.message.name == got.name == "Ünïcode notes.txt"
    assert got.headers["content-disposition"] == (
        'attachment; filename="_n_code notes.txt"; '
        f"filename*=UTF-8''{quote('Ünïcode notes.txt', safe='')}"
    )
    assert got.headers["content-type"].startswith("text/plain")
    assert len(shared.file_id) == 43  # stored under a server-generated id, not the name
    assert shared.file_id in stored(server)


async def test_a_waiting_a_removed_and_another_meetings_participant_cannot_download(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {}) as (meeting, guest):
        shared = await meeting.host.share_file(NOTES, name="notes.txt", content_type="text/plain")
        waiting = await MeetingClient.connect(meeting.join_url, name="Carol Jones")
        other = await hosted_meeting(server.url, {}, host_name="Dave Brown")
        try:
            await meeting.host.wait_for(
                WaitingListChanged,
                lambda e: any(w.id == waiting.participant_id for w in e.waiting),
            )
            with pytest.raises(PolicyRefusedError) as caught:
                await waiting.download_file(shared.file_id)
            assert caught.value.reason == "not_admitted"  # the engine's decision
            assert caught.value.decision_id is not None

            stranger = await other.host.file_token()
            in_own = await raw_download(server, other.meeting_id, shared.file_id, stranger.token)
            in_theirs = await raw_download(
                server, meeting.meeting_id, shared.file_id, stranger.token
            )
            assert (in_own.status_code, in_own.json()["reason"]) == (404, "file_not_found")
            assert (in_theirs.status_code, in_theirs.json()["reason"]) == (404, "not_found")

            kept = await guest.file_token()
            assert (
                await raw_download(server, meeting.meeting_id, shared.file_id, kept.token)
            ).status_code == 200
            await meeting.host.remove(pid(guest))
            await guest.wait_for(Removed)
            removed = await raw_download(server, meeting.meeting_id, shared.file_id, kept.token)
            assert (removed.status_code, removed.json()["reason"]) == (401, "session_ended")

            asked = await meeting.api.audit(event_type="file_download_requested", allowed=False)
            assert [(e["participant"], e["decision"]["reason"]) for e in asked] == [
                (waiting.participant_id, "not_admitted"),  # the engine's decision
            ]
            refused = await meeting.api.audit(event_type="file_downloaded", allowed=False)
            assert [(e["participant"], e["decision"]["reason"]) for e in refused] == [
                (pid(guest), "session_ended"),  # the server's: no live connection
            ]
            theirs = await other.api.audit(event_type="file_downloaded")
            assert [e["decision"]["reason"] for e in theirs] == ["file_not_found"]
            # What the server recorded itself reads in the host's language too.
            read = {
                e["decision"]["reason"]: e["decision"]["message"]
                for hosted in (meeting, other)
                for e in await audit_in_chinese(server, hosted, "file_downloaded")
            }
            assert read["file_not_found"] == "这个会议中没有这个文件。"
            assert read["session_ended"] == chinese(
                "Your connection to the meeting has ended; rejoin and ask for a new file token."
            )
            assert read["session_ended"] != refused[0]["decision"]["message"]
        finally:
            await waiting.close()
            await other.close()


async def test_the_file_token_names_its_holder_and_ends_with_the_connection(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {"allowed": "anyone"}) as (meeting, guest):
        shared = await guest.share_file(NOTES, name="notes.txt")
        token = await guest.file_token()
        for forged in ("e30.e30.x", "not-a-token", meeting.host_token, token.token + "x"):
            response = await raw_download(server, meeting.meeting_id, shared.file_id, forged)
            assert (response.status_code, response.json()["reason"]) == (404, "not_found")
        assert (
            await raw_download(server, meeting.meeting_id, shared.file_id, token.token)
        ).status_code == 200
        await guest.reconnect()  # same participant, a new connection: the old token ends
        stale = await raw_download(server, meeting.meeting_id, shared.file_id, token.token)
        assert (stale.status_code, stale.json()["reason"]) == (401, "session_ended")
        assert (await guest.download_file(shared.file_id)).content == NOTES


# --- grants that run out ------------------------------------------------------------------


async def test_a_grant_that_expires_during_the_upload_refuses_the_file_at_the_end(
    server: RunningServer,
) -> None:
    before = stored(server)
    async with meeting_with_guest(server, {"allowed": "with_grant"}) as (meeting, guest):
        await meeting.host.grant(pid(guest), "file", seconds=5)
        await guest.wait_for(GrantReceived)
        grant_over = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield b"Part one, sent while the grant is live.\n"
            await grant_over.wait()
            yield b"Part two, after it ended.\n"

        async def watch() -> None:
            topic = "grant_expired"
            await guest.wait_for(NoticeReceived, lambda e: e.message.topic == topic, timeout=30)
            grant_over.set()

        watcher = asyncio.create_task(watch())
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.share_file(body(), name="notes.txt", content_type="text/plain")
        await watcher
        assert (caught.value.reason, caught.value.rule) == (
            "share_needs_grant",
            "/file_share/allowed",
        )
        entries = await meeting.api.audit(participant=pid(guest))
        steps = [
            (e["event"]["type"], e["decision"]["reason"])
            for e in entries
            if e["event"]["type"] in {"file_upload_requested", "grant_expired", "file_offered"}
        ]
        assert steps == [
            ("file_upload_requested", "upload_allowed"),
            ("grant_expired", "grant_expired"),
            ("file_offered", "share_needs_grant"),
        ]
    assert stored(server) == before


# --- the audit log and restarts ----------------------------------------------------------


async def test_the_audit_log_records_every_offer_decision_and_download(
    server: RunningServer,
) -> None:
    async with meeting_with_guest(server, {}) as (meeting, guest):
        shared = await meeting.host.share_file(NOTES, name="notes.txt", content_type="text/plain")
        await guest.wait_for(FileShared)
        await guest.download_file(shared.file_id)
        with pytest.raises(PolicyRefusedError):
            await guest.share_file(NOTES, name="mine.txt")
        entries = await meeting.api.audit()
    files = [e for e in entries if e["event"]["type"].startswith("file_")]
    assert [
        (e["event"]["type"], e["participant"], e["decision"]["allowed"], e["decision"]["reason"])
        for e in files
    ] == [
        ("file_upload_requested", pid(meeting.host), True, "upload_allowed"),
        ("file_offered", pid(meeting.host), True, "file_accepted"),
        ("file_download_requested", pid(guest), True, "download_allowed"),
        ("file_upload_requested", pid(guest), False, "share_host_only"),
    ]
    offer = files[1]
    assert offer["event"] | {"at": 0} == {
        "type": "file_offered",
        "at": 0,
        "participant": pid(meeting.host),
        "file_id": shared.file_id,
        "name": "notes.txt",
        "size": len(NOTES),
        "sniffed_type": "text/plain",
        "declared_type": "text/plain",
        "content_mismatch": False,
        "executable": False,
        "scan_result": None,
    }
    assert offer["decision"]["effects"] == [
        {"effect": "share_file", "participant": pid(meeting.host), "file_id": shared.file_id}
    ]
    assert files[2]["event"]["file_id"] == shared.file_id


async def test_shared_files_survive_a_restart_and_old_tokens_do_not(tmp_path: Path) -> None:
    server = RunningServer(tmp_path / "data").start()
    try:
        created = await hosted_meeting(server.url, {})
        shared = await created.host.share_file(pdf(), name="kept.pdf")
        old = await created.host.file_token()
        await created.close()
        server.restart()
        host = await MeetingClient.connect(
            created.join_url, name="Alice Chen", host_token=created.host_token
        )
        try:
            stale = await raw_download(server, created.meeting_id, shared.file_id, old.token)
            assert (stale.status_code, stale.json()["reason"]) == (401, "session_ended")
            got = await host.download_file(shared.file_id)
            assert (got.content, got.name) == (pdf(), "kept.pdf")
        finally:
            await host.close()
    finally:
        server.stop()


# --- a meeting's files go with it ---------------------------------------------------------


async def test_ending_a_meeting_deletes_its_files_and_no_other_meetings(
    server: RunningServer,
) -> None:
    ending = await hosted_meeting(server.url, {})
    going_on = await hosted_meeting(server.url, {})
    try:
        gone = await ending.host.share_file(NOTES, name="minutes.txt", content_type="text/plain")
        kept = await going_on.host.share_file(NOTES, name="agenda.txt", content_type="text/plain")
        assert {gone.file_id, kept.file_id} <= stored(server)
        await ending.host.end_meeting()
        await until(lambda: _absent(server, gone.file_id))
        assert kept.file_id in stored(server)
        got = await going_on.host.download_file(kept.file_id)
        assert got.content == NOTES
    finally:
        await ending.close()
        await going_on.close()


async def _absent(server: RunningServer, file_id: str) -> bool:
    return file_id not in stored(server)


async def test_files_of_a_meeting_that_ended_while_the_server_was_down_are_deleted_at_start(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path / "data").start()
    try:
        created = await hosted_meeting(server.url, {})
        shared = await created.host.share_file(NOTES, name="minutes.txt")
        await created.close()
        server.stop()
        # The meeting ends in the database while no server runs (a crash right after ending).
        store = await Store.open(f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'meetwarden.db')}")
        try:
            await store.end_meeting(created.meeting_id, time.time())
            assert await store.get_file(shared.file_id) is not None
        finally:
            await store.close()
        assert shared.file_id in stored(server)
        server.start()
        assert shared.file_id not in stored(server)
        store = await Store.open(f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'meetwarden.db')}")
        try:
            assert await store.get_file(shared.file_id) is None
        finally:
            await store.close()
    finally:
        server.stop()
