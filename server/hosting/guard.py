"""Who is asking: the credential on a request, the session cookie, and CSRF checks.

A request that creates a meeting carries either an operator API key
(``Authorization: Bearer mwk_...``; browsers never attach one by themselves,
so it needs no CSRF check) or a host's session cookie. A cookie is sent by the
browser whoever made the page, so every state-changing request that relies on
it must also prove it came from this server's own pages (OWASP's CSRF
cheat sheet, "defense in depth"):

- its ``Origin`` is this server's (the trusted Host, or ``--public-url``);
- it carries the session's CSRF token in ``X-CSRF-Token``, which only a page
  of this origin can read (``GET /api/session``). A custom header also
  cannot be sent cross-site without a CORS preflight, which this server never
  grants; a cross-site ``text/plain`` form POST carries neither.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent on
cross-site subrequests), ``Secure`` and ``__Host-``-prefixed when the server is
reached over https.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from ..i18n.markers import N_
from ..problems import ProblemError
from ..store import AccountRecord, SessionRecord
from .service import SESSION_SECONDS, Hosting

__all__ = [
    "CSRF_HEADER",
    "Creator",
    "MeetingCreator",
    "check_csrf",
    "check_same_origin",
    "clear_session_cookie",
    "hosting_of",
    "meeting_creator",
    "session_cookie",
    "set_session_cookie",
    "signed_in",
]

log = logging.getLogger("meetwarden.hosting")
CSRF_HEADER: Final = "X-CSRF-Token"
_COOKIE: Final = "meetwarden-session"
# The __Host- prefix makes the browser refuse the cookie unless it is Secure,
# host-only and for Path=/ (RFC 6265bis, section 4.1.3.2): no sibling subdomain can set it.
_SECURE_COOKIE: Final = "__Host-meetwarden-session"


@dataclass(frozen=True, slots=True)
class MeetingCreator:
    """Who created a meeting: an API key (by id and name) or an account (by username)."""

    kind: Literal["api_key", "account"]
    id: str
    name: str

    def __str__(self) -> str:
        return f"{'key' if self.kind == 'api_key' else 'account'} {self.name} ({self.id})"


def hosting_of(request: Request) -> Hosting:
    hosting: Hosting = request.app.state.hosting
    return hosting


def _over_https(request: Request) -> bool:
    public_url: str | None = request.app.state.public_url
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(_SECURE_COOKIE if _over_https(request) else _COOKIE)


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    secure = _over_https(request)
    response.set_cookie(
        _SECURE_COOKIE if secure else _COOKIE,
        value,
        max_age=int(SESSION_SECONDS),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    secure = _over_https(request)
    response.delete_cookie(
        _SECURE_COOKIE if secure else _COOKIE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def _own_origins(request: Request) -> set[str]:
    origins = {f"{request.url.scheme}://{request.headers.get('host', '').lower()}"}
    public_url: str | None = request.app.state.public_url
    if public_url:
        parts = urlsplit(public_url)
        origins.add(f"{parts.scheme}://{parts.netloc.lower()}")
    origins.update(request.app.state.allowed_origins)
    return origins


def check_same_origin(request: Request) -> None:
    """Refuses a browser request that does not come from this server's own pages."""
    origin = (request.headers.get("origin") or "").lower()
    if origin not in _own_origins(request):
        log.info("refused a cross-site %s %s (Origin %r)", request.method, request.url.path, origin)
        raise ProblemError(
            403,
            N_("Cross-site request"),
            N_("This request did not come from this server's own pages, so it was refused."),
            reason="cross_site_request",
        )


async def signed_in(request: Request) -> tuple[SessionRecord, AccountRecord] | None:
    """The session the request's cookie opens, with its account, or None."""
    cookie = session_cookie(request)
    return await hosting_of(request).session(cookie) if cookie else None


def check_csrf(request: Request, session: SessionRecord) -> None:
    """Origin and CSRF token of a state-changing request made with the session cookie."""
    check_same_origin(request)
    presented = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
        raise ProblemError(
            403,
            N_("Missing CSRF token"),
            N_(
                "A signed-in request that changes something carries the page's {header}; "
                "reload the page and try again."
            ),
            reason="csrf_token_invalid",
            params={"header": CSRF_HEADER},
        )


NEEDS_CREDENTIAL: Final = N_(
    "Creating a meeting needs a credential: an operator API key "
    "(Authorization: Bearer mwk_..., from `meetwarden keys create`) or a signed-in host "
    "account (the sign-in page at /sign-in)."
)


async def meeting_creator(request: Request) -> MeetingCreator:
    """The API key or the signed-in account behind a request; 401 or 403 otherwise."""
    hosting = hosting_of(request)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, presented = authorization.partition(" ")
        key = await hosting.check_api_key(presented.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise ProblemError(
                401,
                N_("Invalid API key"),
                N_("This API key is not valid: it is malformed, unknown or revoked."),
                reason="invalid_credential",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return MeetingCreator("api_key", key.id, key.name)
    found = await signed_in(request)
    if found is None:
        raise ProblemError(
            401,
            N_("Sign in first"),
            NEEDS_CREDENTIAL,
            reason="not_signed_in",
            headers={"WWW-Authenticate": 'Bearer realm="meetwarden"'},
        )
    session, account = found
    check_csrf(request, session)
    return MeetingCreator("account", account.id, account.username)


Creator = Annotated[MeetingCreator, Depends(meeting_creator)]
