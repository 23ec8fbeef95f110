"""The scanner against a real clamd: infected, clean, and never clean when unsure."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from meetwarden.server.files.scanner import ClamdScanner, Verdict

pytestmark = pytest.mark.anyio

FileWriter = Callable[[str, bytes], Path]


async def test_eicar_file_is_infected_with_its_signature_name(
    clamd: Any, write_file: FileWriter, eicar: bytes, eicar_signature: str
) -> None:
    result = await clamd.scanner().scan_file(write_file("eicar.txt", eicar))

    assert result.verdict is Verdict.INFECTED
    assert result.signature == eicar_signature
    assert not result.clean


async def test_clean_file_is_clean(clamd: Any, write_file: FileWriter) -> None:
    path = write_file("notes.txt", b"Minutes of the board meeting.\n" * 1000)

    result = await clamd.scanner().scan_file(path)

    assert result.verdict is Verdict.CLEAN
    assert result.clean
    assert result.signature is None


async def test_eicar_split_into_odd_chunks_is_still_found(
    clamd: Any, eicar: bytes, eicar_signature: str
) -> None:
    async def one_byte_at_a_time() -> AsyncIterator[bytes]:
        for index in range(len(eicar)):
            yield eicar[index : index + 1]

    result = await clamd.scanner().scan_chunks(one_byte_at_a_time())

    assert (result.verdict, result.signature) == (Verdict.INFECTED, eicar_signature)


async def test_ping_answers_when_clamd_is_up(clamd: Any) -> None:
    assert await clamd.scanner().ping()


async def test_stream_over_clamd_limit_is_unavailable_not_clean(
    clamd: Any, write_file: FileWriter
) -> None:
    # The fixture's clamd has StreamMaxLength 1 MiB; a file past it is not fully scanned.
    path = write_file("big.bin", b"\0" * (2 * 1024 * 1024))

    result = await clamd.scanner().scan_file(path)

    assert result.verdict is Verdict.UNAVAILABLE
    assert result.cause is not None
    # clamd answers "INSTREAM size limit exceeded" and hangs up; if it hangs up between
    # two of our writes, its answer is lost with the connection and the cause says so.
    assert "size limit" in result.cause or "StreamMaxLength" in result.cause


async def test_scan_over_tcp(
    start_another_clamd: Callable[..., Any], write_file: FileWriter, eicar: bytes
) -> None:
    scanner = start_another_clamd(tcp=True).scanner()

    assert (await scanner.scan_file(write_file("e.com", eicar))).verdict is Verdict.INFECTED
    assert (await scanner.scan_file(write_file("ok.txt", b"fine"))).verdict is Verdict.CLEAN


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_stopped_daemon_is_unavailable_never_clean(
    start_another_clamd: Callable[..., Any],
    write_file: FileWriter,
    eicar: bytes,
    stop_signal: int,
) -> None:
    daemon = start_another_clamd()
    scanner = daemon.scanner()
    assert (await scanner.scan_file(write_file("e.txt", eicar))).verdict is Verdict.INFECTED

    daemon.stop(stop_signal)
    # SIGKILL leaves the socket file behind: connecting is refused rather than not found.
    result = await scanner.scan_file(write_file("ok.txt", b"fine"))

    assert result.verdict is Verdict.UNAVAILABLE
    assert result.cause is not None
    assert "not reachable" in result.cause
    assert not await scanner.ping()


async def test_socket_with_nothing_behind_it_is_unavailable(
    tmp_path: Path, write_file: FileWriter
) -> None:
    scanner = ClamdScanner(socket_path=tmp_path / "missing.sock", timeout=5)

    result = await scanner.scan_file(write_file("ok.txt", b"fine"))

    assert result.verdict is Verdict.UNAVAILABLE
    assert not await scanner.ping()


async def serve_unix(
    path: Path, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
) -> asyncio.Server:
    return await asyncio.start_unix_server(handler, path=str(path))


async def read_instream(reader: asyncio.StreamReader) -> bytes:
    """Read a zINSTREAM request as clamd does; return the bytes streamed."""
    assert await reader.readuntil(b"\0") == b"zINSTREAM\0"
    received = b""
    while length := int.from_bytes(await reader.readexactly(4), "big"):
        received += await reader.readexactly(length)
    return received


async def test_daemon_that_never_answers_times_out_as_unavailable(
    tmp_path: Path, write_file: FileWriter
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes everything and says nothing until the client leaves
        writer.close()

    socket_path = tmp_path / "silent.sock"
    async with await serve_unix(socket_path, silent):
        scanner = ClamdScanner(socket_path=socket_path, timeout=0.3)
        result = await scanner.scan_file(write_file("ok.txt", b"fine"))
        pinged = await scanner.ping()

    assert result.verdict is Verdict.UNAVAILABLE
    assert result.cause is not None
    assert "no answer within 0.3 s" in result.cause
    assert not pinged


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (b"stream: OK", "closed before a complete reply"),  # no terminating NUL
        (b"stream: maybe\0", "answered 'stream: maybe'"),
        (b"stream: Can't allocate memory ERROR\0", "ERROR"),
        (b"\xff\xfe\0", "not text"),
        (b"", "closed before a complete reply"),
    ],
    ids=["unterminated", "unknown", "error", "binary", "nothing"],
)
async def test_reply_we_do_not_understand_is_unavailable(
    tmp_path: Path, write_file: FileWriter, reply: bytes, cause: str
) -> None:
    async def odd(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_instream(reader)
        writer.write(reply)
        await writer.drain()
        writer.close()

    socket_path = tmp_path / "odd.sock"
    async with await serve_unix(socket_path, odd):
        result = await ClamdScanner(socket_path=socket_path, timeout=5).scan_file(
            write_file("ok.txt", b"fine")
        )

    assert result.verdict is Verdict.UNAVAILABLE
    assert result.cause is not None
    assert cause in result.cause


async def test_verdict_given_before_the_stream_ended_is_not_taken(
    tmp_path: Path, write_file: FileWriter
) -> None:
    async def hasty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\0")
        writer.write(b"stream: OK\0")  # before reading any of the file
        await writer.drain()
        await reader.read()  # and keeps the connection open while we send
        writer.close()

    socket_path = tmp_path / "hasty.sock"
    async with await serve_unix(socket_path, hasty):
        scanner = ClamdScanner(socket_path=socket_path, timeout=5)
        result = await scanner.scan_file(write_file("big.bin", bytes(8 * 1024 * 1024)))

    assert result.verdict is Verdict.UNAVAILABLE
    assert result.cause is not None
    assert "before the stream ended" in result.cause


async def test_file_that_cannot_be_read_is_unavailable(clamd: Any, tmp_path: Path) -> None:
    result = await clamd.scanner().scan_file(tmp_path / "gone.pdf")

    assert result.verdict is Verdict.UNAVAILABLE


async def test_scanner_needs_exactly_one_address() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ClamdScanner()
    with pytest.raises(ValueError, match="exactly one"):
        ClamdScanner(socket_path="/run/clamav/clamd.ctl", host="127.0.0.1")
