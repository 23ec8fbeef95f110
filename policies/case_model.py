"""The case-file language, as strict models: what ``meetwarden policy test`` reads.

A case file is held to the policy's bar: unknown fields are errors (a typo such as
``alowed`` or ``no_efects`` would otherwise check nothing and pass), event types,
effect names and reason codes are checked against the engine's own lists, and each
error names its JSON pointer and what would be valid, with a did-you-mean.
The models give the JSON Schema that ``meetwarden policy case-schema`` prints and
``docs/cases.schema.json`` keeps.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import types
from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    create_model,
    model_validator,
)

from . import effects as fx
from .case_issues import issues_of
from .errors import PolicyError, PolicyIssue
from .events import Event
from .reasons import Reason
from .state import Participant

__all__ = [
    "EFFECT_NAMES",
    "EFFECT_PATTERNS",
    "Case",
    "CaseFile",
    "Clock",
    "Expect",
    "ParticipantPattern",
    "case_schema",
    "validate_case_file",
]

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True)
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Clock(BaseModel):
    """Moves the meeting's clock and fires the timers due by then (grants, camera checks).

    As ``when``, the case checks the last decision a timer made."""

    model_config = _STRICT
    type: Literal["clock"]
    at: Seconds | None = None
    """The time to move to, in seconds on the meeting's clock."""
    advance: Seconds | None = None
    """Or how many seconds to move forward."""

    @model_validator(mode="after")
    def _one_way(self) -> Clock:
        if self.at is not None and self.advance is not None:
            raise ValueError("a clock step has 'at' or 'advance', not both")
        return self


def _effect_fields(kind: type) -> dict[str, Any]:
    """The keys of an effect's JSON (``effect_to_json``) and the type of each."""
    if kind is fx.AddParticipant:
        hints = get_type_hints(Participant)
        return {"participant": str} | {key: hints[key] for key in ("name", "role", "status")}
    hints = get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind)}


def _pattern_type(hint: Any) -> Any:
    """The JSON a pattern may give for a value of type ``hint`` (as effect_to_json writes it)."""
    origin = get_origin(hint)
    if hint in (str, bool, int, float, type(None)) or origin is Literal:
        return hint
    if origin in (frozenset, tuple, list):
        return list[_pattern_type(get_args(hint)[0])]  # type: ignore[misc]
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, (_pattern_type(arg) for arg in get_args(hint)))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _pattern_model(hint, hint.__name__)
    return JsonValue


def _pattern_model(kind: type, title: str, **extra: Any) -> type[BaseModel]:
    hints = get_type_hints(kind)
    fields: dict[str, Any] = {
        f.name: (_pattern_type(hints[f.name]) | None, None) for f in dataclasses.fields(kind)
    }
    return create_model(title, __config__=_STRICT, **fields, **extra)


def _summary(kind: type) -> str:
    """The first paragraph of a dataclass's own docstring ("" for the generated one)."""
    doc = kind.__doc__ or ""
    return "" if doc.startswith(f"{kind.__name__}(") else doc.split("\n\n")[0].strip()


def _effect_pattern(kind: type) -> type[BaseModel]:
    name = fx.effect_name(kind)
    fields: dict[str, Any] = {"effect": (Literal[name], ...)}
    for key, hint in _effect_fields(kind).items():
        fields[key] = (_pattern_type(hint) | None, None)
    model = create_model(
        f"{kind.__name__}Pattern",
        __config__=_STRICT,
        __doc__=_summary(kind),
        **fields,
    )
    return model


EFFECT_PATTERNS: dict[str, type[BaseModel]] = {
    model.model_fields["effect"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (_effect_pattern(kind) for kind in get_args(fx.Effect))
}
"""Each effect's name and the model of the patterns that match it."""
EFFECT_NAMES: tuple[str, ...] = tuple(EFFECT_PATTERNS)

ParticipantPattern = _pattern_model(
    Participant, "ParticipantPattern", __doc__="Fields of a participant after the event."
)

if TYPE_CHECKING:
    EffectPattern = BaseModel
    StatePattern = BaseModel
else:
    EffectPattern = Annotated[
        functools.reduce(operator.or_, EFFECT_PATTERNS.values()), Field(discriminator="effect")
    ]
    StatePattern = Literal["absent"] | ParticipantPattern

CaseStep = Annotated[Event | Clock, Field(discriminator="type")]

_CHECKS = (
    "allowed",
    "reason",
    "rule",
    "params",
    "message_contains",
    "effects",
    "no_effects",
    "state",
)


class Expect(BaseModel):
    """What the decision on ``when`` must be; every key given is checked."""

    model_config = _STRICT
    allowed: bool | None = None
    reason: Reason | None = None
    """A reason code (docs/policy.md lists them)."""
    rule: Annotated[str, Field(pattern=r"^(/.*)?$")] | None = None
    """The JSON pointer of the rule that decided ("" for meetwarden's own rules)."""
    params: dict[str, str | int | list[str]] | None = None
    """Parameters of the decision's sentence that must be equal (others may be there too),
    such as ``{kind: screen}`` or ``{seconds: 600}``."""
    message_contains: str | None = None
    """Text the decision's sentence, in English, must contain."""
    effects: tuple[EffectPattern, ...] = ()
    """Each must match one effect of the decision: every key given is equal."""
    no_effects: tuple[EffectPattern, ...] = ()
    """None may match an effect of the decision."""
    state: dict[Annotated[str, Field(min_length=1)], StatePattern] = Field(default_factory=dict)
    """Participants afterwards, by id: fields that must be equal, or "absent"."""

    @model_validator(mode="after")
    def _checks_something(self) -> Expect:
        if not self.model_fields_set:
            raise ValueError(f"expect checks nothing: give at least one of {', '.join(_CHECKS)}")
        return self


class Case(BaseModel):
    """One policy unit test: replay ``given``, decide ``when``, compare with ``expect``."""

    model_config = _STRICT
    name: Annotated[str, Field(min_length=1, max_length=200)]
    given: tuple[CaseStep, ...] = ()
    when: CaseStep
    expect: Expect


class CaseFile(BaseModel):
    """A file of policy unit tests (JSON or YAML)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        title="meetwarden cases",
        # Top-level keys starting "x-" hold YAML anchors that cases reuse (as in Compose
        # files and OpenAPI); they are not read.
        json_schema_extra={"patternProperties": {"^x-": {}}},
    )
    schema_: str | None = Field(default=None, alias="$schema")
    """The JSON Schema this file follows, for editors."""
    cases: tuple[Case, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> CaseFile:
        seen: set[str] = set()
        for case in self.cases:
            if case.name in seen:
                raise ValueError(f"two cases are named {case.name!r}; give each its own name")
            seen.add(case.name)
        return self


def case_schema() -> dict[str, Any]:
    """The JSON Schema of a case file (``docs/cases.schema.json``)."""
    schema = CaseFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def validate_case_file(document: Mapping[str, Any] | list[Any] | Any) -> CaseFile:
    """Validates a parsed case file (an object with ``cases``, or a bare list of cases)."""
    if isinstance(document, list):
        document = {"cases": document}
    if not isinstance(document, Mapping):
        raise PolicyError([PolicyIssue("", "wrong_type", "a case file holds a list 'cases'")])
    document = {key: value for key, value in document.items() if not str(key).startswith("x-")}
    try:
        text = json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PolicyError(
            [PolicyIssue("", "wrong_type", f"the file holds a value JSON cannot carry: {error}")]
        ) from None
    try:
        # JSON mode, as for policies: arrays are valid for the frozen tuple fields.
        return CaseFile.model_validate_json(text)
    except ValidationError as error:
        raise PolicyError(issues_of(CaseFile, error.errors())) from None
