"""The host REST API's policies: read a meeting's policy and its versions, replace it.

    GET /api/meetings/{meeting_id}/policy
    GET /api/meetings/{meeting_id}/policy/versions
    PUT /api/meetings/{meeting_id}/policy

A replacement is decided in the meeting's Room like a host's update on the
socket; a bad one leaves the old one in force and says every error.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from meetwarden.policies.errors import PolicyError
from meetwarden.policies.events import PolicyUpdateRequested
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.state import OWNER

from .api_host import DecisionOut, HostMeeting, decide_in_room, json_body, registry_of
from .capabilities import invalid_problem, unsupported_here, unsupported_problem

__all__ = ["PolicyOut", "PolicyVersionOut", "router"]

router = APIRouter(prefix="/api", tags=["hosts"])


class PolicyOut(BaseModel):
    revision: int
    policy: dict[str, Any]


class PolicyVersionOut(PolicyOut):
    sha256: str
    created_at: float
    created_by: str


@router.get("/meetings/{meeting_id}/policy", response_model=PolicyOut)
async def read_policy(request: Request, record: HostMeeting) -> PolicyOut:
    room = await registry_of(request).room(record.id)
    if room is not None:
        return PolicyOut(revision=room.revision, policy=room.policy_document)
    return PolicyOut(revision=record.policy_revision, policy=json.loads(record.policy_document))


@router.get("/meetings/{meeting_id}/policy/versions", response_model=list[PolicyVersionOut])
async def policy_versions(request: Request, record: HostMeeting) -> list[PolicyVersionOut]:
    registry = registry_of(request)
    room = await registry.room(record.id)
    if room is not None:
        await room.writes.flush()  # a replacement the Room decided is stored before it is listed
    versions = await registry.store.policy_versions(record.id)
    return [
        PolicyVersionOut(
            revision=v.revision,
            policy=json.loads(v.document),
            sha256=v.sha256,
            created_at=v.created_at,
            created_by=v.created_by,
        )
        for v in versions
    ]


@router.put("/meetings/{meeting_id}/policy", response_model=DecisionOut)
async def replace_policy(request: Request, record: HostMeeting) -> DecisionOut:
    """Replace the policy; a bad one leaves the old one in force and returns every error."""
    document = await json_body(request)
    try:
        policy = validate_policy(document)
    except PolicyError as error:
        raise invalid_problem(error.issues, old_stays=True) from None
    problems = unsupported_here(request.app.state, policy)
    if problems:
        raise unsupported_problem(problems, old_stays=True)
    return await decide_in_room(
        request,
        record,
        PolicyUpdateRequested(actor=OWNER, policy=policy),
        context={"policy_document": document, "by": OWNER},
    )
