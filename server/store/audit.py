"""The audit log's rows: an entry to a row and back, and the filters of a query.

Entries are only ever inserted (the database refuses UPDATE and DELETE, see
the first migration). Events and effects are stored as compact JSON text;
NaN and infinities are refused, as JSON has no spelling for them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, or_, select

from .records import AuditEntry
from .tables import audit_entries

__all__ = ["audit_query", "entry_from_row", "row_from_entry"]


def row_from_entry(entry: AuditEntry) -> dict[str, Any]:
    """The column values that store ``entry`` (its ``id`` is assigned by the database)."""
    if entry.id is not None:
        raise ValueError(
            f"audit entry {entry.decision_id!r} already has id {entry.id}: "
            "the store assigns ids, and an entry is appended once"
        )
    return {
        "meeting_id": entry.meeting_id,
        "at": entry.at,
        "decision_id": entry.decision_id,
        "policy_revision": entry.policy_revision,
        "event_type": entry.event_type,
        "event": _json(entry.event),
        "allowed": entry.allowed,
        "reason": entry.reason,
        "rule": entry.rule,
        "message": entry.message,
        "actor": entry.actor,
        "participant": entry.participant,
        "effects": _json(entry.effects),
    }


def entry_from_row(row: RowMapping) -> AuditEntry:
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


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
