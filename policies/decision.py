"""A decision: allowed or refused, why, by which rule, and what follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .effects import Effect, effect_to_json
from .reasons import Reason

__all__ = ["BUILTIN_RULE", "Decision", "allow", "refuse"]

BUILTIN_RULE = ""
"""The rule pointer of decisions made by meetwarden's own rules (who may act on whom),
not by a policy field: the empty JSON pointer, the document as a whole."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    rule: str
    """JSON pointer of the policy rule that decided, such as ``/audio/unmute``."""
    message: str
    """A sentence the participant can read."""
    effects: tuple[Effect, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "rule": self.rule,
            "message": self.message,
            "effects": [effect_to_json(effect) for effect in self.effects],
        }


def allow(reason: Reason, rule: str, message: str, *effects: Effect) -> Decision:
    return Decision(True, reason, rule, message, effects)


def refuse(reason: Reason, rule: str, message: str, *effects: Effect) -> Decision:
    return Decision(False, reason, rule, message, effects)
