"""The host REST API's audit log: every decision in a meeting, filtered, or exported.

    GET /api/meetings/{meeting_id}/audit
    GET /api/meetings/{meeting_id}/audit.jsonl     (JSON Lines for ``policy simulate``)

Both flush the background writers first, so they show everything decided so far.
A read writes each decision's sentence in the language of ``Accept-Language``, from
its reason and the ``params`` the entry keeps; an entry stored before the log kept
them (or one the server recorded itself, a file download say) reads as it was stored,
in English: its ``params`` are null. The export is the record as stored: each
sentence in English, beside its reason and params.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from .api_host import HostMeeting, registry_of
from .files.access import SERVER_RECORDED_EVENTS
from .i18n import Language, from_accept_language, reason_text, say
from .store import AuditEntry, MeetingRecord

__all__ = ["AuditFilter", "router"]

router = APIRouter(prefix="/api", tags=["hosts"])


def sentence(entry: AuditEntry, language: Language) -> str:
    """What the entry's decision says, in ``language``: written from its reason and params;
    an entry the server recorded beside the engine's decisions (a file download, a stopped
    upload) has its English sentence as the message id; an entry without params (stored
    before the log kept them) says its stored English."""
    if entry.params is None:
        return entry.message
    if entry.event.get("type") in SERVER_RECORDED_EVENTS:
        return say(language, entry.message)
    return reason_text(entry.reason, entry.params, language)


def _entry_json(entry: AuditEntry, language: Language | None = None) -> dict[str, Any]:
    """An entry as the API gives it; its sentence in ``language``, or as stored if None."""
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
            "message": entry.message if language is None else sentence(entry, language),
            "params": entry.params,
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
    registry = registry_of(request)
    await registry.writes.flush()  # what the decisions so far changed is stored too
    await registry.audit.flush()
    return await registry.store.audit(record.id, **query.model_dump())


@router.get("/meetings/{meeting_id}/audit")
async def read_audit(
    request: Request, record: HostMeeting, query: Annotated[AuditFilter, Query()]
) -> dict[str, Any]:
    """Every decision (event, decision, reason code, rule pointer, who, when), filterable;
    each sentence in the language of ``Accept-Language``."""
    language = from_accept_language(request.headers.get("accept-language"))
    entries = await _audit(request, record, query)
    return {"entries": [_entry_json(entry, language) for entry in entries]}


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
