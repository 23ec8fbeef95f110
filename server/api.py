"""The host REST API: create a meeting, read and replace its policy, invites, audit, end.

Bodies are parsed strictly (duplicate keys refused, as for policy files).
Errors are ``application/problem+json`` (RFC 9457) carrying the reason code
and rule pointer. A meeting that does not exist and a token that does not
open it get the same 404, so ids cannot be probed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from meetwarden.policies.errors import PolicyError, listed
from meetwarden.policies.events import EndMeetingRequested, PolicyUpdateRequested
from meetwarden.policies.jsonload import parse_json
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.state import OWNER

from .capabilities import invalid_problem, unsupported_here, unsupported_problem
from .hosting.guard import Creator
from .i18n import from_accept_language
from .i18n.markers import N_
from .problems import ProblemError
from .runtime.registry import Registry
from .runtime.room import Room, RoomClosedError
from .store import AuditEntry, InviteRecord, MeetingRecord

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["hosts"])
log = logging.getLogger("meetwarden.api")
MAX_BODY = 300 * 1024
NOT_FOUND = ProblemError(
    404,
    N_("Not found"),
    N_("No such meeting, or this token does not open it."),
    reason="not_found",
)


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


class PolicyOut(BaseModel):
    revision: int
    policy: dict[str, Any]


class PolicyVersionOut(PolicyOut):
    sha256: str
    created_at: float
    created_by: str


class InviteIn(BaseModel):
    role: Literal["participant", "cohost"] = "participant"
    expires_minutes: int = Field(default=24 * 60, ge=1, le=30 * 24 * 60)


class InviteOut(BaseModel):
    invite_id: str
    invite_token: str
    join_url: str
    role: str
    expires_at: float


class DecisionOut(BaseModel):
    allowed: bool
    reason: str
    rule: str
    params: dict[str, str | int | list[str]] = Field(
        default_factory=dict, description="What the sentence needs besides the reason code."
    )
    message: str = Field(description="The sentence, in the language of Accept-Language.")
    decision_id: str = Field(description="The decision's id in the meeting's audit log.")


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def _json_body(request: Request) -> Any:
    too_large = ProblemError(
        413, "Too large", f"The body is over {MAX_BODY} bytes.", reason="too_large"
    )
    # Counted as it arrives: reading it all first would let one request fill the memory.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large
    try:
        return parse_json(bytes(body), max_bytes=MAX_BODY)
    except PolicyError as error:
        raise ProblemError(
            422,
            N_("Invalid policy"),
            N_("The request body is not valid JSON: {problems}."),
            params={"problems": listed(error.issues)},
            reason="policy_invalid",
            rule=error.issues[0].pointer,
            errors=[issue.to_json() for issue in error.issues],
        ) from None


async def host_meeting(
    meeting_id: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> MeetingRecord:
    """The meeting the bearer's host token opens, or the same 404 as for no meeting.

    A client that keeps failing (scanning meeting ids or guessing tokens) is
    throttled, as Zoom does against meeting-id scanners (security-bar test 30).
    """
    registry = _registry(request)
    client = f"api:{request.client.host if request.client else 'unknown'}"
    wait = registry.api_lookups.retry_after(client)
    if wait is not None:
        raise ProblemError(
            429,
            N_("Too many requests"),
            N_("Too many failed requests; try again in {seconds} seconds."),
            params={"seconds": max(1, round(wait))},
            reason="too_many_attempts",
        )
    scheme, _, token = (authorization or "").partition(" ")
    claims = None
    if scheme.lower() == "bearer" and token and len(meeting_id) <= 64:
        claims = registry.tokens.verify(token, "host", meeting_id)
    record = await registry.record(meeting_id) if claims is not None else None
    if claims is None or record is None or claims.subject != record.host_key:
        registry.api_lookups.failed(client)
        raise NOT_FOUND
    return record


HostMeeting = Annotated[MeetingRecord, Depends(host_meeting)]


def _join_url(request: Request, meeting_id: str) -> str:
    base: str = request.app.state.public_url or str(request.base_url).rstrip("/")
    return f"{base}/m/{meeting_id}"


async def _live(request: Request, record: MeetingRecord) -> Room:
    room = await _registry(request).room(record.id)
    if room is None:
        raise ProblemError(
            409, N_("Meeting ended"), N_("The meeting has ended."), reason="meeting_ended"
        )
    return room


async def _decide(
    request: Request, record: MeetingRecord, event: Any, **kwargs: Any
) -> DecisionOut:
    """The host's request, decided in the meeting's Room like every other event."""
    for attempt in range(2):
        room = await _live(request, record)
        try:
            decided = await room.submit(event, **kwargs)
        except RoomClosedError:  # released (idle) just now: it loads again from the store
            if attempt:
                raise
            continue
        language = from_accept_language(request.headers.get("accept-language"))
        return DecisionOut(
            allowed=decided.allowed,
            reason=decided.reason,
            rule=decided.rule,
            params=decided.params,
            message=decided.text(language),
            decision_id=decided.decision_id,
        )
    raise AssertionError("unreachable")


@router.post("/meetings", status_code=201, response_model=CreatedMeetingOut)
async def create_meeting(request: Request, creator: Creator) -> CreatedMeetingOut:
    """Create a meeting from a policy document (``{"policy": {...}, "password": "..."}``).

    Needs a credential: an operator API key (``Authorization: Bearer mwk_...``) or a
    signed-in host's session cookie with the page's ``X-CSRF-Token``.
    """
    body = await _json_body(request)
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
        created = await _registry(request).create_meeting(document, password)
    except PolicyError as error:
        raise invalid_problem(error.issues) from None
    log.info("meeting %s created by %s", created.meeting_id, creator)
    return CreatedMeetingOut(
        meeting_id=created.meeting_id,
        join_url=_join_url(request, created.meeting_id),
        host_token=created.host_token,
        policy_revision=created.revision,
    )


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def read_meeting(request: Request, record: HostMeeting) -> MeetingOut:
    room = await _registry(request).room(record.id)
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


@router.get("/meetings/{meeting_id}/policy", response_model=PolicyOut)
async def read_policy(request: Request, record: HostMeeting) -> PolicyOut:
    room = await _registry(request).room(record.id)
    if room is not None:
        return PolicyOut(revision=room.revision, policy=room.policy_document)
    return PolicyOut(revision=record.policy_revision, policy=json.loads(record.policy_document))


@router.get("/meetings/{meeting_id}/policy/versions", response_model=list[PolicyVersionOut])
async def policy_versions(request: Request, record: HostMeeting) -> list[PolicyVersionOut]:
    versions = await _registry(request).store.policy_versions(record.id)
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
    document = await _json_body(request)
    try:
        policy = validate_policy(document)
    except PolicyError as error:
        raise invalid_problem(error.issues, old_stays=True) from None
    problems = unsupported_here(request.app.state, policy)
    if problems:
        raise unsupported_problem(problems, old_stays=True)
    return await _decide(
        request,
        record,
        PolicyUpdateRequested(actor=OWNER, policy=policy),
        context={"policy_document": document, "by": OWNER},
    )


@router.post("/meetings/{meeting_id}/invites", status_code=201, response_model=InviteOut)
async def create_invite(request: Request, record: HostMeeting, invite: InviteIn) -> InviteOut:
    """An invite token; with `invited` in the policy's bypass, its holder skips the waiting."""
    await _live(request, record)
    registry = _registry(request)
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
        join_url=f"{_join_url(request, record.id)}#invite={token}",
        role=invite.role,
        expires_at=claims.expires_at,
    )


@router.delete("/meetings/{meeting_id}/invites/{invite_id}", status_code=204)
async def revoke_invite(request: Request, record: HostMeeting, invite_id: str) -> Response:
    registry = _registry(request)
    invite = await registry.store.get_invite(invite_id)
    if invite is None or invite.meeting_id != record.id:
        raise ProblemError(404, "Not found", "No such invite in this meeting.", reason="not_found")
    await registry.store.revoke_invite(invite_id)
    return Response(status_code=204)


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "decision_id": entry.decision_id,
        "policy_revision": entry.policy_revision,
        "actor": entry.actor,
        "participant": entry.participant,
        "event": entry.event,
        "decision": {
            "allowed": entry.allowed,
            "reason": entry.reason,
            "rule": entry.rule,
            "message": entry.message,
            "effects": entry.effects,
        },
    }


class AuditFilter(BaseModel):
    participant: str | None = None
    actor: str | None = None
    reason: str | None = None
    event_type: str | None = None
    allowed: bool | None = None
    since: float | None = None
    until: float | None = None
    after_id: int | None = None
    limit: int = Field(default=1000, ge=1, le=10000)


async def _audit(request: Request, record: MeetingRecord, query: AuditFilter) -> list[AuditEntry]:
    registry = _registry(request)
    await registry.writes.flush()  # what the decisions so far changed is stored too
    await registry.audit.flush()
    return await registry.store.audit(record.id, **query.model_dump())


@router.get("/meetings/{meeting_id}/audit")
async def read_audit(
    request: Request, record: HostMeeting, query: Annotated[AuditFilter, Query()]
) -> dict[str, Any]:
    """Every decision (event, decision, reason code, rule pointer, who, when), filterable."""
    return {"entries": [_entry_json(e) for e in await _audit(request, record, query)]}


@router.get("/meetings/{meeting_id}/audit.jsonl")
async def export_audit(
    request: Request, record: HostMeeting, query: Annotated[AuditFilter, Query()]
) -> StreamingResponse:
    """The audit log as JSON Lines that ``meetwarden policy simulate`` replays."""
    entries = await _audit(request, record, query)
    start = entries[0].at if entries else 0.0

    async def lines() -> AsyncIterator[bytes]:
        for entry in entries:
            line = _entry_json(entry)
            # The replayed clock starts at the first entry, so timers fire at the same offsets.
            line["event"] = {**entry.event, "at": round(entry.at - start, 3)}
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

    filename = f"meetwarden-audit-{record.id[:8]}.jsonl"
    return StreamingResponse(
        lines(),
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/meetings/{meeting_id}/end", response_model=DecisionOut)
async def end_meeting(request: Request, record: HostMeeting) -> DecisionOut:
    return await _decide(request, record, EndMeetingRequested(actor=OWNER))
