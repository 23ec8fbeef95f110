"""The host REST API's meetings: create one from a policy, read how it stands, end it.

POST /api/meetings                          (an operator key or a host's session)
GET  /api/meetings/{meeting_id}             (the host token, as every route below)
POST /api/meetings/{meeting_id}/end
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from meetwarden.policies.errors import PolicyError
from meetwarden.policies.events import EndMeetingRequested
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.state import OWNER

from .api_host import DecisionOut, HostMeeting, decide_in_room, join_url, json_body, registry_of
from .capabilities import invalid_problem, unsupported_here, unsupported_problem
from .hosting.guard import Creator
from .problems import ProblemError

__all__ = ["CreatedMeetingOut", "MeetingOut", "router"]

router = APIRouter(prefix="/api", tags=["hosts"])
log = logging.getLogger("meetwarden.api")


class CreatedMeetingOut(BaseModel):
    meeting_id: str
    join_url: str
    host_token: str = Field(description="Keep it secret: it opens the host's powers.")
    policy_revision: int


class MeetingOut(BaseModel):
    meeting_id: str
    name: str
    created_at: float
    ended: bool
    locked: bool
    policy_revision: int
    participants: int
    waiting: int


@router.post("/meetings", status_code=201, response_model=CreatedMeetingOut)
async def create_meeting(request: Request, creator: Creator) -> CreatedMeetingOut:
    """Create a meeting from a policy document (``{"policy": {...}, "password": "..."}``).

    Needs a credential: an operator API key (``Authorization: Bearer mwk_...``) or a
    signed-in host's session cookie with the page's ``X-CSRF-Token``.
    """
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("policy", {}), dict):
        raise ProblemError(422, "Invalid body", 'Send {"policy": {...}, "password": "..."}.')
    unknown = set(body) - {"policy", "password"}
    if unknown:
        raise ProblemError(422, "Invalid body", f"Unknown fields: {', '.join(sorted(unknown))}.")
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        raise ProblemError(422, "Invalid body", "password is a string.")
    document = body.get("policy", {})
    try:
        problems = unsupported_here(request.app.state, validate_policy(document))
        if problems:  # valid, but never workable here: say so before storing anything
            raise unsupported_problem(problems)
        created = await registry_of(request).create_meeting(document, password)
    except PolicyError as error:
        raise invalid_problem(error.issues) from None
    log.info("meeting %s created by %s", created.meeting_id[:8], creator)
    return CreatedMeetingOut(
        meeting_id=created.meeting_id,
        join_url=join_url(request, created.meeting_id),
        host_token=created.host_token,
        policy_revision=created.revision,
    )


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def read_meeting(request: Request, record: HostMeeting) -> MeetingOut:
    room = await registry_of(request).room(record.id)
    state = room.state if room else None
    return MeetingOut(
        meeting_id=record.id,
        name=record.name,
        created_at=record.created_at,
        ended=record.ended_at is not None or room is None,
        locked=state.locked if state else record.locked,
        policy_revision=room.revision if room else record.policy_revision,
        participants=state.admitted_count() if state else 0,
        waiting=sum(1 for _ in state.waiting()) if state else 0,
    )


@router.post("/meetings/{meeting_id}/end", response_model=DecisionOut)
async def end_meeting(request: Request, record: HostMeeting) -> DecisionOut:
    return await decide_in_room(request, record, EndMeetingRequested(actor=OWNER))
