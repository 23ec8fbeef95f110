"""The browser client: its pages, its static files, and the small JSON endpoints it uses.

Pages and files come from ``server/web/`` (plain HTML, CSS and ES modules; no
build step, nothing fetched from another origin). Every response carries a
strict Content-Security-Policy: scripts only from this server, no inline
script or style, and Trusted Types required so that no script can write HTML
from a string (names and chat are always text: BBB CVE-2022-31064 was a chat
name rendered through innerHTML).

Endpoints beside the pages:

- ``GET /api/policies/examples``: the example policies, to start from one.
- ``GET /api/policies/schema``: the policy's JSON Schema (field help in the editor).
- ``POST /api/policies/explain``: a policy in plain words, one sentence per rule, and
  what it asks that this server cannot do; or the same 422 problem (every error with
  its JSON pointer) as creating a meeting.
- ``GET /api/meetings/{id}/entry``: what the join page tells a guest before they join
  (a password, a full name, a camera, the waiting room), and nothing else of the
  meeting. An unknown or ended id answers with the same shape: a default policy's
  requirements with a password (docs/doors.md).
- ``GET /i18n/{language}.json``: the client's sentences in one language (English if
  the server has no catalog for it), built from the ``.po`` files at the first request.
- ``GET /api/meetings/{id}/participant-view``: for an admitted participant
  (``Authorization: Bearer <resume token>``, the current one from ``welcome``), the parts of the
  policy that shape their controls (screen surfaces, chat, files) and the
  server's clock, which grant countdowns need. A waiting participant, or anyone
  else, gets the same 404 as for a meeting that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from meetwarden.policies.errors import PolicyError
from meetwarden.policies.explain import explain
from meetwarden.policies.jsonload import parse_json
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.model import Policy

from .capabilities import invalid_problem, unsupported_here
from .hosting.guard import signed_in
from .i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    client_catalog,
    explanation_text,
    from_accept_language,
    supported,
)
from .i18n.markers import N_
from .problems import ProblemError
from .runtime.registry import Registry

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "WEB_ROOT", "page_response", "router"]

WEB_ROOT = Path(__file__).with_name("web")
MAX_POLICY_BYTES = 300 * 1024

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": (
        "camera=(self), microphone=(self), display-capture=(self), "
        "geolocation=(), payment=(), usb=()"
    ),
}
SECURITY_HEADERS = _SECURITY_HEADERS
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Asset paths are lower-case words joined by / - _ . and end in a known type:
# nothing else is looked up on disk (no "..", no hidden files, no directories).
# Both shapes are checked with fullmatch: ``$`` also matches before a final
# newline, so ``match`` with ``$`` took "x\n" for a meeting id.
_ASSET = re.compile(r"[a-z0-9_-]+(?:/[a-z0-9_-]+)*\.(?:js|css|svg|png|ico)")
_MEETING_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NOT_FOUND = ProblemError(
    404,
    N_("Not found"),
    N_("No such meeting, or this token does not open it."),
    reason="not_found",
)

router = APIRouter()


def _file_response(path: Path, request: Request, *, cache_control: str) -> Response:
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_SECURITY_HEADERS, "ETag": etag, "Cache-Control": cache_control}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[path.suffix], headers=headers)


def page_response(request: Request, name: str) -> Response:
    """A page of ``server/web/`` with the security headers (for pages other routers serve)."""
    return _file_response(WEB_ROOT / name, request, cache_control="no-cache")


def _not_found_page() -> Response:
    return Response(
        "Not found", status_code=404, media_type="text/plain", headers=dict(_SECURITY_HEADERS)
    )


# --- pages ------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
async def create_page(request: Request) -> Response:
    """The host's page: create a meeting from a policy (signed-in hosts; others sign in first)."""
    if await signed_in(request) is None:
        return RedirectResponse("/sign-in", status_code=303, headers=dict(_SECURITY_HEADERS))
    return _file_response(WEB_ROOT / "index.html", request, cache_control="no-cache")


@router.get("/m/{meeting_id}", include_in_schema=False)
async def meeting_page(request: Request, meeting_id: str) -> Response:
    """The join page, the waiting room, the meeting and the host console.

    The same page for every id: whether a meeting exists is only learnt by joining,
    which answers an unknown meeting and a wrong password alike.
    """
    if not _MEETING_ID.fullmatch(meeting_id):
        return _not_found_page()
    return _file_response(WEB_ROOT / "meeting.html", request, cache_control="no-cache")


@router.get("/assets/{path:path}", include_in_schema=False)
async def asset(request: Request, path: str) -> Response:
    if not _ASSET.fullmatch(path):
        return _not_found_page()
    file = (WEB_ROOT / path).resolve()
    if not file.is_relative_to(WEB_ROOT.resolve()) or not file.is_file():
        return _not_found_page()
    return _file_response(file, request, cache_control="no-cache")


@cache
def _catalog_body(language: Language) -> bytes:
    document = {
        "language": language,
        "languages": [{"tag": tag, "name": LANGUAGE_NAMES[tag]} for tag in LANGUAGES],
        "messages": client_catalog(language),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


@router.get("/i18n/{name}", include_in_schema=False)
async def catalog(request: Request, name: str) -> Response:
    """The client's sentences: ``{"language", "languages": [{"tag", "name"}], "messages"}``,
    ``messages`` mapping each English message id to its sentence (server/i18n)."""
    tag = name.removesuffix(".json") if name.endswith(".json") else ""
    body = _catalog_body(supported(tag) or "en")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# --- policies: examples, schema, plain words ----------------------------------------


@cache
def _examples() -> list[dict[str, Any]]:
    folder = resources.files("meetwarden.policies") / "examples"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            document = json.loads(entry.read_text(encoding="utf-8"))
            found.append(
                {
                    "id": entry.name.removesuffix(".json"),
                    "name": document.get("name") or entry.name,
                    "policy": document,
                }
            )
    return found


@router.get("/api/policies/examples", tags=["policies"])
async def policy_examples() -> dict[str, Any]:
    """The example policies shipped with meetwarden (``policies/examples``), to start from."""
    return {"examples": _examples()}


@cache
def _schema() -> dict[str, Any]:
    return Policy.model_json_schema()


@router.get("/api/policies/schema", tags=["policies"])
async def policy_schema() -> dict[str, Any]:
    """The policy's JSON Schema, as ``meetwarden policy schema`` prints it."""
    return _schema()


def explained(policy: Policy, language: Language) -> list[dict[str, str]]:
    """Each rule of the policy in plain words, in ``language``."""
    return [
        {"rule": line.rule, "text": explanation_text(line, language)} for line in explain(policy)
    ]


@router.post("/api/policies/explain", tags=["policies"])
async def explain_policy(request: Request) -> dict[str, Any]:
    """A policy document (the body) in plain words: ``{"rules": [{"rule", "text"}],
    "unsupported": [...]}``.

    A policy that is not valid gets a 422 ``application/problem+json`` whose
    ``errors`` give each error's JSON pointer, code and sentence. A valid one that
    asks what this server cannot do (``GET /api/capabilities``) is explained, and
    ``unsupported`` lists those problems in the same shape: creating a meeting from
    it would be refused (``policy_unsupported``).
    """
    body = await request.body()
    try:
        policy = validate_policy(parse_json(body, max_bytes=MAX_POLICY_BYTES))
    except PolicyError as error:
        raise invalid_problem(error.issues) from None
    language = from_accept_language(request.headers.get("accept-language"))
    return {
        "rules": explained(policy, language),
        "unsupported": [issue.to_json() for issue in unsupported_here(request.app.state, policy)],
    }


# --- what a guest may know before joining ------------------------------------------


@cache
def _default_policy() -> Policy:
    return validate_policy({})


def entry_requirements(policy: Policy) -> dict[str, Any]:
    """The entry rules a guest must meet, as the join page shows them."""
    entry = policy.entry
    return {
        "password": entry.password,
        "waiting_room": entry.waiting_room.enabled,
        "full_name": {"required": entry.full_name.required, "min_words": entry.full_name.min_words},
        "camera": {"required": entry.camera.required},
    }


@router.get("/api/meetings/{meeting_id}/entry", tags=["participants"])
async def meeting_entry(request: Request, meeting_id: str) -> JSONResponse:
    """What a guest must bring to join: a password, a full name, a camera; whether a
    waiting room comes first. Never the meeting's name, its people or the rest of its
    policy. An id the server does not hold (or an ended meeting) gets the same shape,
    read from a default policy that asks for a password, so a wrong link is told to
    bring what a protected meeting would need."""
    registry: Registry = request.app.state.registry
    record = await registry.record(meeting_id) if _MEETING_ID.fullmatch(meeting_id) else None
    if record is None or record.ended_at is not None:
        body = {**entry_requirements(_default_policy()), "password": True}
    else:
        body = entry_requirements(validate_policy(json.loads(record.policy_document)))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# --- what an admitted participant needs to know of the policy ----------------------

_PARTICIPANT_RULES = ("/audio", "/screen_share", "/file_share", "/chat", "/entry/camera")


@router.get("/api/meetings/{meeting_id}/participant-view", tags=["participants"])
async def participant_view(
    request: Request,
    meeting_id: str,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """What the policy lets this admitted participant do, for the controls to show it."""
    registry: Registry = request.app.state.registry
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or len(meeting_id) > 64:
        raise NOT_FOUND
    claims = registry.tokens.verify(token, "resume", meeting_id)
    room = await registry.room(meeting_id) if claims else None
    if room is None or claims is None:
        raise NOT_FOUND
    person = room.state.get(claims.subject)
    current = room.resume_token_is_current(claims.subject, claims.token_id)
    if person is None or not person.admitted or not current:
        raise NOT_FOUND
    policy = room.policy
    share, files = policy.screen_share, policy.file_share
    body = {
        "server_time": time.time(),
        "policy_revision": room.revision,
        # "anyone": the participants' link is worth passing on ("Copy link" in the meeting);
        # "invited": only personal invites get in.
        "entry": {"identity": policy.entry.identity},
        "audio": {"unmute": policy.audio.unmute},
        "camera": {"required": policy.entry.camera.required},
        "screen_share": {
            "allowed": share.allowed,
            "surfaces": list(share.surfaces),
            "audio": share.audio,
            "max_concurrent": share.max_concurrent,
        },
        "file_share": {
            "allowed": files.allowed,
            "max_bytes": files.max_bytes,
            "types": list(files.types),
        },
        "chat": {"allowed": policy.chat.allowed, "private": policy.chat.private},
        "rules": [
            line
            for line in explained(
                policy, from_accept_language(request.headers.get("accept-language"))
            )
            if line["rule"].startswith(_PARTICIPANT_RULES)
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
