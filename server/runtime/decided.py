"""A decision as the server made it: the engine's Decision and the id the audit log holds.

Every result a client or a host receives carries ``decision_id``, so a person's
"why" and the host's audit log point at the same entry (the way OPA's decision
logs give each decision an id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from meetwarden.policies.decision import Decision
from meetwarden.policies.effects import Effect

__all__ = ["Decided", "new_decision_id"]


def new_decision_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision
    decision_id: str

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def reason(self) -> str:
        return self.decision.reason.value

    @property
    def rule(self) -> str:
        return self.decision.rule

    @property
    def message(self) -> str:
        return self.decision.message

    @property
    def effects(self) -> tuple[Effect, ...]:
        return self.decision.effects

    def to_json(self) -> dict[str, Any]:
        return {**self.decision.to_json(), "decision_id": self.decision_id}
