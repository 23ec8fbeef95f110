"""What every host route stands on: the meeting a host token opens, its Room, bodies, decisions.

A meeting that does not exist and a token that does not open it get the same
404 (``NOT_FOUND``), so ids cannot be probed, and a client that keeps failing
is throttled. Bodies are parsed strictly (duplicate keys refused, as for
policy files) and counted as they arrive. A host's request to the meeting is
decided in its Room like every other event, and answered as a ``DecisionOut``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel, Field

from meetwarden.policies.errors import PolicyError, listed
from meetwarden.policies.jsonload import parse_json

from .i18n import from_accept_language
from .i18n.markers import N_
from .problems import ProblemError
from .runtime.registry import Registry
from .runtime.room import Room, RoomClosedError
from .store import MeetingRecord

__all__ = [
    "MAX_BODY",
    "NOT_FOUND",
    "DecisionOut",
    "HostMeeting",
    "decide_in_room",
    "host_meeting",
    "join_url",
    "json_body",
    "live_room",
    "registry_of",
]

MAX_BODY = 300 * 1024
NOT_FOUND = ProblemError(
    404,
    N_("Not found"),
    N_("No such meeting, or this token does not open it."),
    reason="not_found",
)


class DecisionOut(BaseModel):
    allowed: bool
    reason: str
    rule: str
    params: dict[str, str | int | list[str]] = Field(
        default_factory=dict, description="What the sentence needs besides the reason code."
    )
    message: str = Field(description="The sentence, in the language of Accept-Language.")
    decision_id: str = Field(description="The decision's id in the meeting's audit log.")


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def json_body(request: Request) -> Any:
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
            issues=error.issues,
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
    registry = registry_of(request)
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
        await registry.api_lookups.failed(client)
        raise NOT_FOUND
    return record


HostMeeting = Annotated[MeetingRecord, Depends(host_meeting)]


def join_url(request: Request, meeting_id: str) -> str:
    base: str = request.app.state.public_url or str(request.base_url).rstrip("/")
    return f"{base}/m/{meeting_id}"


async def live_room(request: Request, record: MeetingRecord) -> Room:
    room = await registry_of(request).room(record.id)
    if room is None:
        raise ProblemError(
            409, N_("Meeting ended"), N_("The meeting has ended."), reason="meeting_ended"
        )
    return room


async def decide_in_room(
    request: Request, record: MeetingRecord, event: Any, **kwargs: Any
) -> DecisionOut:
    """The host's request, decided in the meeting's Room like every other event."""
    for attempt in range(2):
        room = await live_room(request, record)
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
