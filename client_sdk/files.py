"""Sharing and downloading files from a bot, over the server's file endpoints.

    shared = await client.share_file("notes.pdf")               # or bytes, with name=
    event = await other.wait_for(FileShared)
    got = await other.download_file(event.message.file_id)       # got.content: the bytes

Each call asks the meeting's socket for a fresh file token (it ends with
the connection) and sends it as ``Authorization: Bearer``. A file is
streamed from disk, never read whole into memory. A refusal by the policy
raises PolicyRefusedError with the reason code (``file_too_large``,
``file_type_mismatch``, ``share_needs_grant``...), the rule pointer and the
sentence; any other failure raises ApiError with the server's problem+json,
ServerUnreachableError when there is no server, MeetwardenTimeoutError when
it stops answering.

A body of unknown length (async chunks) is sent chunked, and counted. The
server stops reading a chunked body as soon as it crosses the meeting's
``file_share.max_bytes`` and closes the connection; a sender still writing
may see that as a reset that loses the 413 (RFC 9112 section 9.6). The file
token carries that limit, so when the connection breaks after more than it was
sent, the SDK still reports ``file_too_large``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx

from meetwarden import protocol as wire

from .errors import (
    ApiError,
    MeetwardenError,
    MeetwardenTimeoutError,
    PolicyRefusedError,
    ServerUnreachableError,
)

__all__ = ["DownloadedFile", "FileSource", "SharedFile", "download", "upload"]

FileSource = str | os.PathLike[str] | bytes | AsyncIterable[bytes]
"""A path to a file, its bytes, or chunks as they come (sent chunked, size undeclared)."""
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class SharedFile:
    """The server's answer to a file the policy let through (now offered to everyone)."""

    file_id: str
    name: str
    """The name others see (sanitised by the server)."""
    size: int
    content_type: str
    """The type the server found in the content."""
    sha256: str
    reason: str
    rule: str
    message: str


@dataclass(frozen=True)
class DownloadedFile:
    file_id: str
    name: str
    """From Content-Disposition (the server's sanitised name)."""
    content_type: str
    size: int
    content: bytes | None
    """The bytes, when no path was given."""
    path: Path | None
    """Where the bytes were written, when a path was given."""
    headers: Mapping[str, str]


def _refusal(response: httpx.Response) -> Exception:
    try:
        problem: Any = response.json()
    except ValueError:
        problem = {"detail": response.text}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)}
    decision = problem.get("decision")
    if isinstance(decision, dict):
        decision_id = decision.get("decision_id")
        params = decision.get("params")
        return PolicyRefusedError(
            str(decision.get("reason", "")),
            str(decision.get("rule", "")),
            str(decision.get("message", "")),
            decision_id=decision_id if isinstance(decision_id, str) else None,
            params=params if isinstance(params, dict) else None,
        )
    return ApiError(response.status_code, problem)


def _too_large(limit: int) -> PolicyRefusedError:
    return PolicyRefusedError(
        "file_too_large",
        "/file_share/max_bytes",
        f"The file is larger than {limit} bytes, the most this meeting accepts.",
        params={"max_bytes": limit},
    )


class _Counted:
    """Chunks of unknown total, counted as they are sent."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self.source, self.sent = source, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.source:
            self.sent += len(chunk)
            yield chunk


def _broken(server: str, error: httpx.TransportError, timeout: float) -> MeetwardenError:
    """The connection failed before an answer: no decision to report."""
    if isinstance(error, httpx.TimeoutException):
        return MeetwardenTimeoutError(f"{server} to answer the file transfer", timeout)
    if isinstance(error, httpx.ConnectError):
        return ServerUnreachableError(server, error)
    detail = (
        f"The connection broke during the file transfer ({type(error).__name__}: {error}). "
        "Try again; if it keeps happening, tell the server's operator."
    )
    return ApiError(0, {"reason": "connection_failed", "detail": detail})


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, _CHUNK):
            yield chunk
    finally:
        file.close()


def _body(source: FileSource) -> tuple[Any, dict[str, str], str | None]:
    """What httpx sends, the headers it needs, and the name a path suggests."""
    if isinstance(source, bytes):
        return source, {}, None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        size = path.stat().st_size
        return _read_file(path), {"Content-Length": str(size)}, path.name
    return source, {}, None


def _name_from(disposition: str) -> str:
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename*" and value.lower().startswith("utf-8''"):
            return unquote(value[len("utf-8''") :])
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename":
            return value.strip('"')
    return ""


def _language(language: str | None) -> dict[str, str]:
    """The refusals' sentences in the client's language (the server reads Accept-Language)."""
    return {"Accept-Language": language} if language else {}


async def upload(
    server: str,
    token: wire.FileToken,
    source: FileSource,
    *,
    name: str | None,
    content_type: str | None,
    timeout: float,
    language: str | None = None,
) -> SharedFile:
    """POST a file to the meeting with a file token; see the module docstring."""
    content, headers, path_name = _body(source)
    counted = None
    if not isinstance(content, bytes) and "Content-Length" not in headers:
        content = counted = _Counted(content)
    headers = {
        **headers,
        "Authorization": f"Bearer {token.token}",
        "Content-Type": content_type or "application/octet-stream",
        **_language(language),
    }
    params = {"name": name if name is not None else (path_name or "")}
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.post(
                server + token.upload_path, content=content, headers=headers, params=params
            )
    except httpx.TransportError as error:
        limit = token.max_bytes
        if counted is not None and limit is not None and counted.sent > limit:
            raise _too_large(limit) from error  # the server's 413 was lost in its reset
        raise _broken(server, error, timeout) from error
    if response.status_code >= 400:
        raise _refusal(response)
    data = response.json()
    decision = data["decision"]
    return SharedFile(
        file_id=data["file_id"],
        name=data["name"],
        size=data["size"],
        content_type=data["content_type"],
        sha256=data["sha256"],
        reason=decision["reason"],
        rule=decision["rule"],
        message=decision["message"],
    )


async def download(
    server: str,
    token: wire.FileToken,
    file_id: str,
    *,
    path: str | os.PathLike[str] | None,
    timeout: float,
    language: str | None = None,
) -> DownloadedFile:
    """GET a shared file, into memory or (streamed) to ``path``."""
    url = f"{server}{token.upload_path}/{quote(file_id, safe='')}"
    headers = {"Authorization": f"Bearer {token.token}", **_language(language)}
    target = Path(path) if path is not None else None
    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=timeout) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code >= 400:
                await response.aread()
                raise _refusal(response)
            file = await asyncio.to_thread(target.open, "wb") if target is not None else None
            try:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if file is None:
                        chunks.append(chunk)
                    else:
                        await asyncio.to_thread(file.write, chunk)
            finally:
                if file is not None:
                    file.close()
            received = dict(response.headers)
    except httpx.TransportError as error:
        raise _broken(server, error, timeout) from error
    return DownloadedFile(
        file_id=file_id,
        name=_name_from(received.get("content-disposition", "")),
        content_type=received.get("content-type", ""),
        size=size,
        content=b"".join(chunks) if target is None else None,
        path=target,
        headers=received,
    )
