"""The host REST API's invites: issue an invite token, revoke one.

    POST   /api/meetings/{meeting_id}/invites
    DELETE /api/meetings/{meeting_id}/invites/{invite_id}

An invite's holder joins with its role; with ``invited`` in the policy's
bypass, they skip the waiting room.
"""

from __future__ import annotations

import secrets
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .api_host import HostMeeting, join_url, live_room, registry_of
from .problems import ProblemError
from .store import InviteRecord

__all__ = ["InviteIn", "InviteOut", "router"]

router = APIRouter(prefix="/api", tags=["hosts"])


class InviteIn(BaseModel):
    role: Literal["participant", "cohost"] = "participant"
    expires_minutes: int = Field(default=24 * 60, ge=1, le=30 * 24 * 60)


class InviteOut(BaseModel):
    invite_id: str
    invite_token: str
    join_url: str
    role: str
    expires_at: float


@router.post("/meetings/{meeting_id}/invites", status_code=201, response_model=InviteOut)
async def create_invite(request: Request, record: HostMeeting, invite: InviteIn) -> InviteOut:
    """An invite token; with `invited` in the policy's bypass, its holder skips the waiting."""
    await live_room(request, record)
    registry = registry_of(request)
    token, claims = registry.tokens.issue(
        "invite", record.id, secrets.token_urlsafe(9), invite.role, invite.expires_minutes * 60
    )
    await registry.store.add_invite(
        InviteRecord(
            jti=claims.token_id,
            meeting_id=record.id,
            role=invite.role,
            created_at=time.time(),
            expires_at=claims.expires_at,
        )
    )
    return InviteOut(
        invite_id=claims.token_id,
        invite_token=token,
        join_url=f"{join_url(request, record.id)}#invite={token}",
        role=invite.role,
        expires_at=claims.expires_at,
    )


@router.delete("/meetings/{meeting_id}/invites/{invite_id}", status_code=204)
async def revoke_invite(request: Request, record: HostMeeting, invite_id: str) -> Response:
    registry = registry_of(request)
    invite = await registry.store.get_invite(invite_id)
    if invite is None or invite.meeting_id != record.id:
        raise ProblemError(404, "Not found", "No such invite in this meeting.", reason="not_found")
    await registry.store.revoke_invite(invite_id)
    return Response(status_code=204)
