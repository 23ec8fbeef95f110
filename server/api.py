"""The host REST API: create a meeting, read and replace its policy, invites, audit, end.

Bodies are parsed strictly (duplicate keys refused, as for policy files).
Errors are ``application/problem+json`` (RFC 9457) carrying the reason code
and rule pointer. A meeting that does not exist and a token that does not
open it get the same 404, so ids cannot be probed.

One router per resource, each under ``/api`` and tagged ``hosts``:
``api_meetings`` (create, read, end), ``api_policies`` (read, versions,
replace), ``api_invites`` (issue, revoke) and ``api_audit`` (read, export),
over what they share in ``api_host`` (the host's meeting, its Room, bodies,
decisions). This module puts them together as the app's one ``router``; the
file endpoints are ``files/routes.py``.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import api_audit, api_invites, api_meetings, api_policies

__all__ = ["router"]

router = APIRouter()
router.include_router(api_meetings.router)
router.include_router(api_policies.router)
router.include_router(api_invites.router)
router.include_router(api_audit.router)
