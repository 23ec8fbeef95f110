"""Malware scanning through a ClamAV daemon (clamd), streaming the bytes to it.

The OWASP File Upload Cheat Sheet: "Run the file through an antivirus or a
sandbox if available". Issue 7: a file is offered to others only after a
clean result, and when the scanner is down the file is held or refused,
never passed unchecked. So a result is ``clean`` only when clamd said
``OK`` for the whole stream; anything else (no daemon, a timeout, a reply
we do not understand, a stream over clamd's ``StreamMaxLength``) is
``unavailable`` with its cause, never ``clean``.

The bytes go over ``zINSTREAM`` (clamd(8): chunks each prefixed with a
4-byte big-endian length, ended by a zero length), on a Unix socket or TCP,
so the daemon needs no access to our storage directory.

Why our own framing rather than a client library (checked 2026):
``clamav-client`` (maintained, typed) is GPL-2.0, which cannot be combined
with meetwarden's Apache-2.0 licence, and blocks; ``aioclamd`` (MIT,
asyncio, maintained) connects only over TCP, not to the Unix socket clamd
uses by default, and reads a file in 1 KiB thread hops; ``clamd`` (last
release 2014) and ``pyclamd`` (2017) are unmaintained. The framing is the
few lines of ``_send_stream`` below.
"""

from __future__ import annotations

import asyncio
import enum
import re
import struct
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing, suppress
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO, Final

__all__ = ["ClamdScanner", "ScanResult", "Verdict"]

_END: Final = struct.pack(">I", 0)
_REPLY_LIMIT: Final = 4096  # a reply is one short line
_FOUND: Final = re.compile(r"stream: (?P<signature>.+) FOUND")
_CHUNK: Final = 64 * 1024


class Verdict(enum.StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A verdict; ``signature`` names what was found, ``cause`` why there is no verdict."""

    verdict: Verdict
    signature: str | None = None
    cause: str | None = None

    @property
    def clean(self) -> bool:
        return self.verdict is Verdict.CLEAN


class _ProtocolError(Exception):
    pass


class _UnreachableError(OSError):
    pass


class ClamdScanner:
    """A client for one clamd, at ``socket_path`` (Unix) or ``host``:``port`` (TCP).

    ``timeout`` bounds a whole scan or ping, connecting included. Each call
    opens its own connection, so concurrent scans do not share state.
    """

    def __init__(
        self,
        *,
        socket_path: str | PathLike[str] | None = None,
        host: str | None = None,
        port: int = 3310,
        timeout: float = 60.0,
    ) -> None:
        if (socket_path is None) == (host is None):
            raise ValueError("give exactly one of socket_path and host")
        self.socket_path = None if socket_path is None else str(socket_path)
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def address(self) -> str:
        return self.socket_path or f"{self.host}:{self.port}"

    async def ping(self) -> bool:
        """True when clamd answers ``PONG`` within the timeout (for a health check)."""
        try:
            async with asyncio.timeout(self.timeout):
                reply = await self._exchange(b"zPING\0", None)
        except (TimeoutError, OSError, _ProtocolError):
            return False
        return reply == "PONG"

    async def scan_file(self, path: str | PathLike[str]) -> ScanResult:
        """Scan a file by streaming its bytes to clamd."""
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except OSError as error:
            return _unavailable(f"the file to scan could not be read: {error}")
        with file:  # closing waits for a read in flight: a buffered file holds a lock
            async with aclosing(_read_chunks(file)) as chunks:
                return await self.scan_chunks(chunks)

    async def scan_chunks(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        """Scan the bytes ``chunks`` yields. Never ``clean`` unless clamd said so."""
        try:
            async with asyncio.timeout(self.timeout):
                reply = await self._exchange(b"zINSTREAM\0", chunks)
        except TimeoutError:
            return _unavailable(f"clamd at {self.address} gave no answer within {self.timeout:g} s")
        except _UnreachableError as error:
            return _unavailable(f"clamd at {self.address} is not reachable: {error}")
        except (_ProtocolError, OSError) as error:
            return _unavailable(f"clamd at {self.address}: {error}")
        if reply == "stream: OK":
            return ScanResult(Verdict.CLEAN)
        if found := _FOUND.fullmatch(reply):
            return ScanResult(Verdict.INFECTED, signature=found.group("signature"))
        return _unavailable(f"clamd at {self.address} answered {reply[:200]!r}")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            if self.socket_path is not None:
                return await asyncio.open_unix_connection(self.socket_path, limit=_REPLY_LIMIT)
            return await asyncio.open_connection(self.host, self.port, limit=_REPLY_LIMIT)
        except OSError as error:
            raise _UnreachableError(str(error)) from error

    async def _exchange(self, command: bytes, chunks: AsyncIterable[bytes] | None) -> str:
        """Send a z-command (and, for INSTREAM, the framed chunks); return the reply."""
        reader, writer = await self._connect()
        # Read while sending: clamd answers early, and hangs up, when it refuses a
        # stream ("INSTREAM size limit exceeded"); that answer says why.
        reply = asyncio.create_task(_read_reply(reader))
        try:
            writer.write(command)
            complete = chunks is None or await _send_stream(writer, chunks, reply)
            await writer.drain()
            answer = await reply
            if not complete and not answer.endswith("ERROR"):
                # Only a refusal can come before the end: a verdict then would not
                # cover the whole file, so it is not taken as one.
                raise _ProtocolError(f"clamd answered {answer[:200]!r} before the stream ended")
            return answer
        except ConnectionError as error:
            await asyncio.wait({reply}, timeout=1.0)
            if reply.done() and not reply.cancelled() and reply.exception() is None:
                return reply.result()
            raise _ProtocolError(
                f"the connection broke before the reply ({error}); clamd hangs up on a "
                "stream longer than its StreamMaxLength"
            ) from error
        finally:
            reply.cancel()
            await asyncio.wait({reply})
            if not reply.cancelled():
                reply.exception()  # retrieved, so asyncio does not log it as lost
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


async def _send_stream(
    writer: asyncio.StreamWriter, chunks: AsyncIterable[bytes], reply: asyncio.Task[str]
) -> bool:
    """clamd(8) INSTREAM: each chunk after its 4-byte big-endian length, then a zero length.

    Returns False when clamd answered before the end, and so read no more.
    """
    async for chunk in chunks:
        for start in range(0, len(chunk), _CHUNK):
            if reply.done():
                return False
            piece = chunk[start : start + _CHUNK]
            writer.write(struct.pack(">I", len(piece)) + piece)
            await writer.drain()
            await asyncio.sleep(0)  # lets the loop read an early answer
    writer.write(_END)
    return True


async def _read_reply(reader: asyncio.StreamReader) -> str:
    try:
        raw = await reader.readuntil(b"\0")
    except asyncio.IncompleteReadError as error:
        raise _ProtocolError("the connection closed before a complete reply") from error
    except asyncio.LimitOverrunError as error:
        raise _ProtocolError("the reply is too long") from error
    try:
        return raw[:-1].decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise _ProtocolError("the reply is not text") from error


async def _read_chunks(file: BinaryIO) -> AsyncGenerator[bytes, None]:
    while chunk := await asyncio.to_thread(file.read, _CHUNK * 4):
        yield chunk


def _unavailable(cause: str) -> ScanResult:
    return ScanResult(Verdict.UNAVAILABLE, cause=cause)
