"""A decision as the server made it: the engine's Decision and the id the audit log holds.

Every result a client or a host receives carries ``decision_id``, so a person's
"why" and the host's audit log point at the same entry (the way OPA's decision
logs give each decision an id).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from meetwarden.policies.decision import Decision
from meetwarden.policies.effects import Effect, Params

from ..i18n import Language, decision_text

__all__ = ["Decided", "new_decision_id", "wire_params"]


def new_decision_id() -> str:
    """128 random bits as 32 hex digits, the shape of a UUID's hex (``uuid4().hex`` cost a
    Python ``UUID`` object a decision)."""
    return secrets.token_hex(16)


def wire_params(params: Params) -> dict[str, str | int | list[str]]:
    """A sentence's parameters as the wire carries them (lists, not tuples)."""
    return {
        key: list(value) if isinstance(value, tuple) else value for key, value in params.items()
    }


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision
    decision_id: str
    _texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Its sentence in each language asked so far (the person's, then the audit log's)."""

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
    def params(self) -> dict[str, str | int | list[str]]:
        return wire_params(self.decision.params)

    def text(self, language: Language) -> str:
        """The decision's sentence in ``language`` (addressed to whoever acted)."""
        text = self._texts.get(language)
        if text is None:
            text = self._texts[language] = decision_text(self.decision, language)
        return text

    @property
    def effects(self) -> tuple[Effect, ...]:
        return self.decision.effects

    def to_json(self) -> dict[str, Any]:
        """As JSON, with its sentence in English (REST answers, the audit log)."""
        return {
            **self.decision.to_json(),
            "message": self.text("en"),
            "decision_id": self.decision_id,
        }
