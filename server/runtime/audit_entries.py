"""What the audit log keeps of one decision: the event, the decision, who, when, which policy.

The Room hands each entry to the audit writer (``audit.py``) at the end of
its turn; ``meetwarden policy simulate`` replays the entries, so an event is
kept as it would be read back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meetwarden.policies.events import Event, PolicyUpdateRequested

from ..store import AuditEntry
from .decided import Decided

if TYPE_CHECKING:
    from .room import Room

__all__ = ["audit_entry"]


def audit_entry(room: Room, event: Event, decided: Decided, actor: str | None) -> AuditEntry:
    """The entry of ``decided``, on ``event``, in ``room`` (under its current revision)."""
    who = getattr(event, "actor", None) or actor
    return AuditEntry(
        meeting_id=room.meeting_id,
        at=room.wall(event.at),
        decision_id=decided.decision_id,
        policy_revision=room.revision,
        event_type=event.type,
        event=_recorded(event),
        allowed=decided.allowed,
        reason=decided.reason,
        rule=decided.rule,
        message=decided.text("en"),
        actor=who if isinstance(who, str) else None,
        participant=getattr(event, "participant", None),
        effects=decided.decision.to_json()["effects"],
    )


def _recorded(event: Event) -> dict[str, Any]:
    """The event as the audit log keeps it. A policy is kept as the host wrote it (its
    unset fields left out), so ``policy simulate`` reads it back as the same policy: the
    defaults filled in would be read as choices (``grant_minutes`` with ``host_only``)."""
    recorded = event.model_dump(mode="json")
    if isinstance(event, PolicyUpdateRequested):
        recorded["policy"] = event.policy.model_dump(mode="json", exclude_unset=True)
    return recorded
