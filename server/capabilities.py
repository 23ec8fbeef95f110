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
from meetwarden.policies.errors import PolicyIssue, listed
from meetwarden.policies.model import Policy

from .door import MAX_UPLOAD_BYTES
from .i18n.markers import N_
from .operations import scanner_state
from .problems import ProblemError

__all__ = ["invalid_problem", "router", "started_with", "unsupported_here", "unsupported_problem"]

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


# The sentences of a refused policy, by how many issues and whether an old policy stays;
# each issue's own sentence (in ``errors`` and listed in the detail) is English.
_UNSUPPORTED = {
    (True, False): N_("This server cannot do what the policy asks (1 problem): {problems}."),
    (False, False): N_(
        "This server cannot do what the policy asks ({count} problems): {problems}."
    ),
    (True, True): N_(
        "This server cannot do what the policy asks (1 problem): {problems}. The old one "
        "stays in force."
    ),
    (False, True): N_(
        "This server cannot do what the policy asks ({count} problems): {problems}. The old "
        "one stays in force."
    ),
}
_INVALID = {
    (True, False): N_("The policy has 1 error: {problems}."),
    (False, False): N_("The policy has {count} errors: {problems}."),
    (True, True): N_("The policy has 1 error: {problems}. The old one stays in force."),
    (False, True): N_("The policy has {count} errors: {problems}. The old one stays in force."),
}


def unsupported_problem(
    problems: Sequence[PolicyIssue], *, old_stays: bool = False
) -> ProblemError:
    """The 422 for a policy this server cannot honour: every problem, at its pointer."""
    return ProblemError(
        422,
        N_("Policy not supported by this server"),
        _UNSUPPORTED[(len(problems) == 1, old_stays)],
        reason="policy_unsupported",
        rule=problems[0].pointer,
        params={"count": len(problems), "problems": listed(problems)},
        errors=[problem.to_json() for problem in problems],
    )


def invalid_problem(issues: Sequence[PolicyIssue], *, old_stays: bool = False) -> ProblemError:
    """The 422 for a policy that is not valid: '1 error', 'N errors', the first few listed."""
    return ProblemError(
        422,
        N_("Invalid policy"),
        _INVALID[(len(issues) == 1, old_stays)],
        reason="policy_invalid",
        rule=issues[0].pointer,
        params={"count": len(issues), "problems": listed(issues)},
        errors=[issue.to_json() for issue in issues],
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
