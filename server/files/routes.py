"""The file endpoints: upload a file to a meeting, download one shared in it.

    POST /api/meetings/{meeting_id}/files?name=report.pdf      (the raw bytes as body)
    GET  /api/meetings/{meeting_id}/files/{file_id}

Both take ``Authorization: Bearer <file token>`` (ask for one on the
meeting's socket with ``file_token``; see ``tokens.py``). The upload's body
is the file itself, streamed; its ``Content-Type`` is the type the sender
declares and ``Content-Length``, when sent, the size it declares (chunked
bodies are fine). Every refusal is ``application/problem+json`` (RFC 9457)
with the reason code, the rule pointer and a sentence; a refusal by the
policy also carries the ``decision``.

Downloads follow the OWASP File Upload Cheat Sheet and the security bar's
test 50: ``Content-Disposition: attachment`` with the sanitised name (RFC
6266, the UTF-8 name as ``filename*`` per RFC 8187 beside an ASCII
``filename``), the sniffed ``Content-Type`` (never the sender's),
``X-Content-Type-Options: nosniff``, and a sandboxing CSP in case a browser
renders it anyway.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from ..i18n import from_accept_language
from ..problems import ProblemError, problem_response
from ..runtime.decided import wire_params
from ..store import FileRecord
from .access import FileRefusedError
from .sharing import FileSharing

__all__ = ["content_disposition", "router"]

router = APIRouter(prefix="/api/meetings/{meeting_id}/files", tags=["files"])
MAX_NAME_IN_QUERY: Final = 1024

_DOWNLOAD_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _files(request: Request) -> FileSharing:
    files: FileSharing = request.app.state.files
    return files


def _problem(refusal: FileRefusedError, request: Request) -> JSONResponse:
    language = from_accept_language(request.headers.get("accept-language"))
    text = refusal.text(language)
    params = wire_params(refusal.params)
    extra: dict[str, Any] = {}
    if refusal.decision_id is not None:
        extra["decision_id"] = refusal.decision_id
    if refusal.decided:
        extra["decision"] = {
            "allowed": False,
            "reason": refusal.reason,
            "rule": refusal.rule,
            "params": params,
            "message": text,
            "decision_id": refusal.decision_id,
        }
    response = problem_response(
        ProblemError(
            refusal.status,
            "Refused" if refusal.decided else "Not possible",
            text,
            reason=refusal.reason,
            rule=refusal.rule,
            params=params,
            written=True,
            **extra,
        ),
        language,
    )
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    if refusal.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if refusal.stopped_reading:
        # Unknown length, so not drained. Otherwise uvicorn reads and drops the rest of
        # a Content-Length body after the response: closing with unread bytes would
        # reset the connection (RFC 9112 section 9.6) and lose the response.
        response.headers["Connection"] = "close"
    return response


def _declared_size(content_length: str | None) -> int | None:
    if content_length is None:
        return None
    if not content_length.isdigit() or len(content_length) > 18:
        raise FileRefusedError(400, "invalid_request", "", "Content-Length is not a size in bytes.")
    return int(content_length)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 section 4.3).

    ``name`` is already sanitised (no controls, quotes, separators, bidi); the
    fallback also replaces non-ASCII and ``%``, which some clients decode.
    """
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file_json(meeting_id: str, record: FileRecord) -> dict[str, Any]:
    return {
        "file_id": record.id,
        "name": record.name,
        "size": record.size,
        "content_type": record.content_type,
        "sha256": record.sha256,
        "sender": record.participant,
        "download_path": f"/api/meetings/{meeting_id}/files/{record.id}",
    }


@router.post("", status_code=201)
async def upload_file(
    meeting_id: str,
    request: Request,
    name: Annotated[str, Query(max_length=MAX_NAME_IN_QUERY)] = "",
    authorization: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[str | None, Header()] = None,
) -> Response:
    """Share a file: the policy decides before and after the bytes arrive (see server/files)."""
    files = _files(request)
    try:
        caller = await files.access.caller(meeting_id, authorization)
        shared = await files.upload(
            caller,
            request.stream(),
            name=name,
            declared_type=content_type,
            declared_size=_declared_size(content_length),
        )
    except FileRefusedError as refusal:
        return _problem(refusal, request)
    decision = shared.decision
    body = {
        **_file_json(meeting_id, shared.record),
        "decision": {
            "allowed": True,
            "reason": decision.reason,
            "rule": decision.rule,
            "params": decision.params,
            "message": decision.text(from_accept_language(request.headers.get("accept-language"))),
            "decision_id": decision.decision_id,
        },
    }
    return JSONResponse(body, status_code=201)


@router.get("/{file_id}")
async def download_file(
    meeting_id: str,
    file_id: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """A file shared in this meeting, for a participant admitted in it now."""
    files = _files(request)
    try:
        record, path = await files.download(meeting_id, authorization, file_id)
    except FileRefusedError as refusal:
        return _problem(refusal, request)
    return FileResponse(
        path,
        media_type=record.content_type,
        headers={**_DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(record.name)},
    )
