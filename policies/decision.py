"""A decision: allowed or refused, why, by which rule, and what follows.

A decision carries no sentence: its reason code and a few parameters (a name, a
number of seconds, the kind of sharing) say everything a sentence needs. Sentences
are written at the edge, in the reader's language, from message catalogs
(``meetwarden.server.i18n``); a bot renders its own from the same reason and
parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .effects import Effect, Params, ParamValue, effect_to_json, json_value
from .reasons import Reason

__all__ = ["BUILTIN_RULE", "Decision", "ParamValue", "Params", "allow", "refuse"]

BUILTIN_RULE = ""
"""The rule pointer of decisions made by meetwarden's own rules (who may act on whom),
not by a policy field: the empty JSON pointer, the document as a whole."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    rule: str
    """JSON pointer of the policy rule that decided, such as ``/audio/unmute``."""
    params: Params = field(default_factory=dict)
    """What the sentence for ``reason`` needs: ``{"name": "Ada Lovelace"}``,
    ``{"kind": "screen", "seconds": 600}``. Values are strings, integers or lists of codes."""
    effects: tuple[Effect, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "rule": self.rule,
            "params": json_value(self.params),
            "effects": [effect_to_json(effect) for effect in self.effects],
        }


def allow(reason: Reason, rule: str, *effects: Effect, **params: ParamValue) -> Decision:
    return Decision(True, reason, rule, params, effects)


def refuse(reason: Reason, rule: str, *effects: Effect, **params: ParamValue) -> Decision:
    return Decision(False, reason, rule, params, effects)
