"""What the audit log keeps of one decision: the event, the decision, who, when, which policy.

The Room hands each entry to the audit writer (``audit.py``) at the end of
its turn; ``meetwarden policy simulate`` replays the entries, so an event is
kept as it would be read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meetwarden.policies.effects import effect_to_json
from meetwarden.policies.events import Event, PolicyUpdateRequested

from ..store import AuditEntry
from .decided import Decided

__all__ = ["RecordedDecision", "audit_entry"]


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """What the audit log keeps of a decision, taken in the meeting's turn (the event and
    the decision are immutable; the meeting's revision and clock are read then): the
    entry is made from it later, with the batch that writes it (``audit.py``)."""

    meeting_id: str
    at: float
    """Wall-clock time of the event."""
    revision: int
    event: Event
    decided: Decided
    actor: str | None

    def __call__(self) -> AuditEntry:
        return audit_entry(self)


def audit_entry(taken: RecordedDecision) -> AuditEntry:
    """The entry of a decision, under the policy revision it was decided under."""
    event, decided = taken.event, taken.decided
    fields = event.__dict__  # a pydantic model's fields; not every event has each
    who = fields.get("actor") or taken.actor
    return AuditEntry(
        meeting_id=taken.meeting_id,
        at=taken.at,
        decision_id=decided.decision_id,
        policy_revision=taken.revision,
        event_type=event.type,
        event=_recorded(event),
        allowed=decided.allowed,
        reason=decided.reason,
        rule=decided.rule,
        message=decided.text("en"),
        params=decided.params,
        actor=who if isinstance(who, str) else None,
        participant=fields.get("participant"),
        effects=[effect_to_json(effect) for effect in decided.effects],
    )


def _recorded(event: Event) -> dict[str, Any]:
    """The event as the audit log keeps it. A policy is kept as the host wrote it (its
    unset fields left out), so ``policy simulate`` reads it back as the same policy: the
    defaults filled in would be read as choices (``grant_minutes`` with ``host_only``)."""
    recorded = event.model_dump(mode="json")
    if isinstance(event, PolicyUpdateRequested):
        recorded["policy"] = event.policy.model_dump(mode="json", exclude_unset=True)
    return recorded
