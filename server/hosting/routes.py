"""The sign-in and set-up pages, and the JSON endpoints behind them.

| endpoint | what |
|---|---|
| ``GET /sign-in``, ``GET /setup`` | the pages (``server/web/``), with the app's security headers |
| ``GET /api/session`` | the signed-in host: username, CSRF token, expiry; 401 when not signed in |
| ``POST /api/session`` | sign in: ``{"username", "password"}``; sets the session cookie |
| ``DELETE /api/session`` | sign out (needs the CSRF token) |
| ``POST /api/accounts`` | an account from a set-up link: ``{"token", "username", "password"}`` |

Every request that signs in, makes an account or signs out must come from this
server's own pages (``Origin``), so that another site cannot sign a visitor
into an account of its choosing (login CSRF) or out of theirs.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from meetwarden.policies.errors import PolicyError
from meetwarden.policies.jsonload import parse_json

from ..i18n.markers import N_
from ..problems import ProblemError
from ..web import page_response
from .guard import (
    check_csrf,
    check_same_origin,
    clear_session_cookie,
    hosting_of,
    session_cookie,
    set_session_cookie,
    signed_in,
)
from .service import HostingRefusedError, SignedIn

__all__ = ["router"]

router = APIRouter()
MAX_BODY: Final = 8 * 1024
_NO_STORE: Final = {"Cache-Control": "no-store"}
_STATUS: Final = {
    "username_invalid": 422,
    "password_invalid": 422,
    "username_taken": 409,
    "setup_link_invalid": 403,
}


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request) -> Response:
    return page_response(request, "sign-in.html")


@router.get("/setup", include_in_schema=False)
async def setup_page(request: Request) -> Response:
    """The page a set-up link opens; its token stays in the fragment, never sent in a URL."""
    return page_response(request, "setup.html")


async def _fields(request: Request, *names: str) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ProblemError(413, "Too large", f"The body is over {MAX_BODY} bytes.")
    try:
        value = parse_json(bytes(body), max_bytes=MAX_BODY)
    except PolicyError:
        value = None
    if not isinstance(value, dict) or set(value) != set(names):
        raise ProblemError(422, "Invalid body", f"Send a JSON object with {', '.join(names)}.")
    if not all(isinstance(value[name], str) for name in names):
        raise ProblemError(422, "Invalid body", f"{', '.join(names)} are strings.")
    return value


def _signed_in_response(request: Request, done: SignedIn, status: int) -> JSONResponse:
    body = {
        "username": done.account.username,
        "csrf_token": done.session.csrf_token,
        "expires_at": done.session.expires_at,
    }
    response = JSONResponse(body, status_code=status, headers=_NO_STORE)
    set_session_cookie(response, request, done.cookie)
    return response


@router.get("/api/session", tags=["accounts"])
async def read_session(request: Request) -> JSONResponse:
    """The signed-in host (username, ``csrf_token`` for ``X-CSRF-Token``, ``expires_at``)."""
    found = await signed_in(request)
    if found is None:
        raise ProblemError(401, N_("Not signed in"), N_("Sign in first."), reason="not_signed_in")
    session, account = found
    body = {
        "username": account.username,
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.post("/api/session", tags=["accounts"])
async def sign_in(request: Request) -> Response:
    """Sign in with ``{"username", "password"}``: sets the session cookie."""
    check_same_origin(request)
    place = getattr(request.app.state, "place", None)
    if place is not None and not place.signs_in:
        # A keep-alive connection the front gave another worker: the same request again,
        # on a new connection, reaches the worker that counts the guesses (server/placement.py).
        return RedirectResponse(str(request.url), 307, headers={"Connection": "close"})
    fields = await _fields(request, "username", "password")
    address = request.client.host if request.client else "unknown"
    result = await hosting_of(request).sign_in(fields["username"], fields["password"], address)
    if isinstance(result, SignedIn):
        return _signed_in_response(request, result, 200)
    if result.retry_after is not None:
        seconds = max(1, round(result.retry_after))
        raise ProblemError(
            429,
            N_("Too many attempts"),
            N_("Too many sign-in attempts; try again in {seconds} seconds."),
            reason="too_many_attempts",
            headers={"Retry-After": str(seconds)},
            params={"seconds": seconds},
        )
    raise ProblemError(
        401,
        N_("Not signed in"),
        N_("The username or the password is wrong."),
        reason="sign_in_failed",
    )


@router.delete("/api/session", status_code=204, tags=["accounts"])
async def sign_out(request: Request) -> Response:
    """Sign out: the session ends on the server, and the cookie is cleared."""
    found = await signed_in(request)
    response = Response(status_code=204, headers=_NO_STORE)
    if found is not None:
        check_csrf(request, found[0])
        await hosting_of(request).end_session(session_cookie(request) or "")
    clear_session_cookie(response, request)
    return response


@router.post("/api/accounts", status_code=201, tags=["accounts"])
async def create_account(request: Request) -> JSONResponse:
    """Make an account with a set-up link's token (single use), and sign it in."""
    check_same_origin(request)
    fields = await _fields(request, "token", "username", "password")
    hosting = hosting_of(request)
    try:
        account = await hosting.create_account_with_link(
            fields["token"], fields["username"], fields["password"]
        )
    except HostingRefusedError as refused:
        raise _refusal(refused) from None
    return _signed_in_response(request, await hosting.start_session(account), 201)


def _refusal(refused: HostingRefusedError) -> ProblemError:
    extra: dict[str, Any] = {}
    if refused.code in ("username_invalid", "username_taken"):
        extra["field"] = "username"
    elif refused.code == "password_invalid":
        extra["field"] = "password"
    return ProblemError(
        _STATUS[refused.code],
        N_("Not set up"),
        refused.template,
        reason=refused.code,
        params=refused.params,
        **extra,
    )
