"""What an operator's tools read: ``/healthz`` (is it ready) and ``/metrics`` (Prometheus).

``/healthz`` answers JSON naming each part: the database (one round trip), the
media plane, the malware scanner. It is 503 when the server cannot hold a
meeting (no database, or media that is on but closed); a scanner that does not
answer makes it "degraded", still 200: meetings go on, and files that the
policy says to scan are refused until it answers. Nothing in it is secret, so it
answers under any Host name (a container's health check, a load balancer).

``/metrics`` tells how busy the server is and how its decisions go. Without
``--metrics-token`` it answers only clients on this machine that came straight
to it (no proxy's forwarding header: a reverse proxy on the same machine would
otherwise open it to everyone); with a token, anyone who presents it.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from .metrics import CONTENT_TYPE
from .problems import ProblemError

__all__ = ["CHECK_SECONDS", "router", "scanner_state"]

router = APIRouter(include_in_schema=False)
CHECK_SECONDS = 2.0
"""How long /healthz waits for the database or the scanner before calling it unreachable."""
_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    database = await _answers(state.store.ping())
    media = state.media
    media_state = "off" if media is None else ("closed" if media.closed else "up")
    scanner = await scanner_state(state)
    ready = database and media_state != "closed"
    status = "unavailable" if not ready else "degraded" if scanner == "unreachable" else "ok"
    body = {
        "status": status,
        "version": state.version,
        "database": "reachable" if database else "unreachable",
        "media": media_state,
        "scanner": scanner,
    }
    return JSONResponse(
        body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"}
    )


async def scanner_state(state: Any) -> str:
    """The app's malware scanner: "not configured", "reachable" or "unreachable" (PING)."""
    scanner = getattr(state.files, "scanner", None)
    if scanner is None:
        return "not configured"
    return "reachable" if await _answers(scanner.ping(), want=True) else "unreachable"


async def _answers(check: Any, want: object = None) -> bool:
    """True when ``check`` finishes in time without raising (and returns ``want``, if given)."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            result = await check
    except Exception:
        return False
    return want is None or result == want


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token = request.app.state.metrics_token
    if token is not None:
        expected = f"Bearer {token}".encode()
        presented = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(presented, expected):
            raise ProblemError(
                401,
                "Token required",
                "Present the token set with --metrics-token (MEETWARDEN_METRICS_TOKEN) as "
                "'Authorization: Bearer <token>'.",
                reason="metrics_token_required",
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not _direct_from_this_machine(request):
        raise ProblemError(
            403,
            "Metrics are local",
            "/metrics answers clients on the server's own machine only. To let Prometheus "
            "read it from elsewhere, set --metrics-token (MEETWARDEN_METRICS_TOKEN).",
            reason="metrics_local_only",
        )
    siblings = request.app.state.worker_metrics  # several workers: every one's figures
    exposition = await siblings.exposition() if siblings else request.app.state.metrics.exposition()
    return Response(exposition, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _direct_from_this_machine(request: Request) -> bool:
    if any(name in request.headers for name in _FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
