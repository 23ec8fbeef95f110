"""Records to rows and back, and the queries that take more than a line.

- a meeting's row holds the revision in force; its document is the
  ``policy_versions`` row of that revision (``meeting_query`` joins them);
- a policy version's SHA-256 is of the document's UTF-8 bytes, as stored;
- audit events and effects are compact JSON text; NaN and infinities are
  refused, as JSON has no spelling for them. Audit rows are only ever
  inserted (the database refuses UPDATE and DELETE, see the first migration).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy import ColumnElement, RowMapping, Select, and_, or_, select

from .records import AuditEntry, InviteRecord, MeetingRecord
from .tables import audit_entries, meetings, policy_versions

__all__ = [
    "AUDIT_COLUMNS",
    "audit_entry_from_row",
    "audit_query",
    "audit_row",
    "invite_from_row",
    "invite_row",
    "meeting_from_row",
    "meeting_query",
    "meeting_row",
    "version_row",
]


def meeting_row(record: MeetingRecord) -> dict[str, Any]:
    """The ``meetings`` columns of a record (its document goes to ``version_row``)."""
    return {
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "ended_at": record.ended_at,
        "locked": record.locked,
        "password_hash": record.password_hash,
        "policy_revision": record.policy_revision,
        "host_key": record.host_key,
    }


def meeting_query() -> Select[Any]:
    """Meetings joined with the document of the revision in force."""
    return select(meetings, policy_versions.c.document).join(
        policy_versions,
        and_(
            policy_versions.c.meeting_id == meetings.c.id,
            policy_versions.c.revision == meetings.c.policy_revision,
        ),
    )


def meeting_from_row(row: RowMapping) -> MeetingRecord:
    """The record a ``meeting_query`` row holds."""
    return MeetingRecord(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        ended_at=row["ended_at"],
        locked=bool(row["locked"]),
        password_hash=row["password_hash"],
        policy_revision=row["policy_revision"],
        policy_document=row["document"],
        host_key=row["host_key"],
    )


def version_row(
    meeting_id: str, revision: int, document: str, *, at: float, by: str
) -> dict[str, Any]:
    """The ``policy_versions`` row of one revision, with the document's hash."""
    return {
        "meeting_id": meeting_id,
        "revision": revision,
        "document": document,
        "sha256": hashlib.sha256(document.encode("utf-8")).hexdigest(),
        "created_at": at,
        "created_by": by,
    }


def invite_row(record: InviteRecord) -> dict[str, Any]:
    """The ``invites`` columns of a record."""
    return {
        "jti": record.jti,
        "meeting_id": record.meeting_id,
        "role": record.role,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked": record.revoked,
    }


def invite_from_row(row: RowMapping) -> InviteRecord:
    """The record an ``invites`` row holds."""
    return InviteRecord(
        jti=row["jti"],
        meeting_id=row["meeting_id"],
        role=row["role"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked=bool(row["revoked"]),
    )


AUDIT_COLUMNS: tuple[str, ...] = (
    "meeting_id",
    "at",
    "decision_id",
    "policy_revision",
    "event_type",
    "event",
    "allowed",
    "reason",
    "rule",
    "message",
    "actor",
    "participant",
    "effects",
    "params",
)
"""The columns ``audit_row`` gives values for, in this order: the table's, but its id."""
assert tuple(c.name for c in audit_entries.columns if c.name != "id") == AUDIT_COLUMNS


def audit_row(entry: AuditEntry) -> tuple[Any, ...]:
    """The values that store ``entry``, in ``AUDIT_COLUMNS`` order (its ``id`` is
    assigned by the database)."""
    if entry.id is not None:
        raise ValueError(
            f"audit entry {entry.decision_id!r} already has id {entry.id}: "
            "the store assigns ids, and an entry is appended once"
        )
    params = entry.params
    return (
        entry.meeting_id,
        entry.at,
        entry.decision_id,
        entry.policy_revision,
        entry.event_type,
        _json(entry.event),
        entry.allowed,
        entry.reason,
        entry.rule,
        entry.message,
        entry.actor,
        entry.participant,
        _json(entry.effects),
        None if params is None else _json(params),
    )


def audit_entry_from_row(row: RowMapping) -> AuditEntry:
    """The entry a stored row holds."""
    return AuditEntry(
        id=row["id"],
        meeting_id=row["meeting_id"],
        at=row["at"],
        decision_id=row["decision_id"],
        policy_revision=row["policy_revision"],
        event_type=row["event_type"],
        event=json.loads(row["event"]),
        allowed=bool(row["allowed"]),
        reason=row["reason"],
        rule=row["rule"],
        message=row["message"],
        actor=row["actor"],
        participant=row["participant"],
        effects=json.loads(row["effects"]),
        params=None if row["params"] is None else json.loads(row["params"]),
    )


def audit_query(
    meeting_id: str,
    *,
    participant: str | None,
    actor: str | None,
    reason: str | None,
    event_type: str | None,
    allowed: bool | None,
    since: float | None,
    until: float | None,
    after_id: int | None,
    limit: int,
) -> Select[Any]:
    """The SELECT for :meth:`Store.audit`; see there for what each filter means."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    table = audit_entries.c
    conditions: list[ColumnElement[bool]] = [table.meeting_id == meeting_id]
    if participant is not None:
        conditions.append(or_(table.participant == participant, table.actor == participant))
    if actor is not None:
        conditions.append(table.actor == actor)
    if reason is not None:
        conditions.append(table.reason == reason)
    if event_type is not None:
        conditions.append(table.event_type == event_type)
    if allowed is not None:
        conditions.append(table.allowed == allowed)
    if since is not None:
        conditions.append(table.at >= since)
    if until is not None:
        conditions.append(table.at < until)
    if after_id is not None:
        conditions.append(table.id > after_id)
    return select(audit_entries).where(and_(*conditions)).order_by(table.id).limit(limit)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json(value: Any) -> str:
    """Compact JSON, by pydantic-core's encoder (a quarter of the standard library's cost
    for an audit row's three values). Text it could not write (a lone surrogate), or with
    NaN or Infinity in it (a float JSON cannot spell, or only a string holding the word),
    is written by the standard library's encoder, which refuses such floats."""
    try:
        text = to_json(value).decode()
    except PydanticSerializationError:
        return _ENCODER.encode(value)
    if "NaN" in text or "Infinity" in text:
        return _ENCODER.encode(value)
    return text
