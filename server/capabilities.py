"""What this server can do for a meeting, and the refusal of a policy that asks for more.

``GET /api/capabilities`` describes the running server (no credential: nothing
in it is secret): its version, whether it forwards media, its malware scanner
(configured, and whether it answers now, probed as ``/healthz`` probes it),
and the largest upload it takes. The check itself is pure
(``meetwarden.policies.capabilities.unsupported``); this module feeds it what
the server was started with, and turns what it finds into the 422 problem
that creating a meeting, replacing its policy and the editor's explain share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from meetwarden.policies.capabilities import Capabilities, Scanner, unsupported
from meetwarden.policies.errors import PolicyIssue, counted, listed
from meetwarden.policies.model import Policy

from .door import MAX_UPLOAD_BYTES
from .operations import scanner_state
from .problems import ProblemError

__all__ = ["router", "started_with", "unsupported_here", "unsupported_problem"]

router = APIRouter(tags=["policies"])


def started_with(*, version: str, media: bool, scanner: bool) -> Capabilities:
    """What a server started with these parts can do (the scanner as configured, not probed)."""
    return Capabilities(
        version=version,
        media=media,
        scanner=Scanner(configured=scanner),
        max_upload_bytes=MAX_UPLOAD_BYTES,
    )


def unsupported_here(state: Any, policy: Policy) -> tuple[PolicyIssue, ...]:
    """What ``policy`` asks that this server (``app.state``) can never give."""
    capabilities: Capabilities = state.capabilities
    return unsupported(policy, capabilities)


def unsupported_problem(problems: Sequence[PolicyIssue], then: str = "") -> ProblemError:
    """The 422 for a policy this server cannot honour: every problem, at its pointer."""
    return ProblemError(
        422,
        "Policy not supported by this server",
        f"This server cannot do what the policy asks ({counted(len(problems), 'problem')}): "
        f"{listed(problems)}.{then}",
        reason="policy_unsupported",
        rule=problems[0].pointer,
        errors=[problem.to_json() for problem in problems],
    )


@router.get("/api/capabilities")
async def capabilities(request: Request) -> JSONResponse:
    """What this server can do: ``{"version", "media", "scanner": {"configured",
    "reachable"}, "max_upload_bytes"}``. A policy that asks for more is refused
    (``policy_unsupported``); ``meetwarden policy check FILE --server URL`` reads this."""
    state = request.app.state
    started: Capabilities = state.capabilities
    reachable = started.scanner.configured and await scanner_state(state) == "reachable"
    now = started.model_copy(
        update={"scanner": Scanner(configured=started.scanner.configured, reachable=reachable)}
    )
    return JSONResponse(now.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
