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
import difflib
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
from pydantic_core import ErrorDetails

from . import effects as fx
from .errors import PolicyError, PolicyIssue, pointer_of
from .events import Event
from .loading import describe_error
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


# --- errors a policy author can act on ----------------------------------------------

_TAG_WORDS = {"'type'": ("event type", "steps"), "'effect'": ("effect", "effects")}


def _unwrap(hint: Any) -> tuple[Any, str | None]:
    discriminator = None
    while get_origin(hint) is Annotated:
        hint, *metadata = get_args(hint)
        for meta in metadata:
            discriminator = getattr(meta, "discriminator", None) or discriminator
    return hint, discriminator


def _walk(loc: tuple[str | int, ...]) -> tuple[list[str | int], Any]:
    """The JSON path of pydantic's ``loc`` (union tags left out), and the type found there."""
    path: list[str | int] = []
    current: Any = CaseFile
    for part in loc:
        current, _ = _unwrap(current)
        origin = get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            path.append(part)
            if field is None:
                return path, None
            current = field.annotation
            if field.discriminator:
                current = Annotated[current, Field(discriminator=field.discriminator)]
        elif origin in (tuple, list) and isinstance(part, int):
            path.append(part)
            current = get_args(current)[0]
        elif origin is dict:
            path.append(part)
            current = get_args(current)[1]
        elif origin in (Union, types.UnionType):
            members = _members(current)
            current = next(
                (m for m in members if _tag_of(m) == part or getattr(m, "__name__", "") == part),
                None,
            )
        else:
            path.append(part)
    return path, current


def _members(union: Any) -> list[Any]:
    """The members of a union, nested unions (the Event union inside a step) flattened."""
    out: list[Any] = []
    for member in get_args(union):
        member, _ = _unwrap(member)
        if get_origin(member) in (Union, types.UnionType):
            out += _members(member)
        else:
            out.append(member)
    return out


def _tag_of(model: Any) -> str | None:
    if isinstance(model, type) and issubclass(model, BaseModel):
        for key in ("type", "effect"):
            field = model.model_fields.get(key)
            if field is not None and get_origin(field.annotation) is Literal:
                return str(get_args(field.annotation)[0])
    return None


def _did_you_mean(word: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(word, valid, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _issue(error: ErrorDetails) -> PolicyIssue:
    loc = tuple(error["loc"])
    path, _ = _walk(loc)
    pointer = pointer_of(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        _, parent = _walk(loc[:-1])
        parent, _ = _unwrap(parent)
        valid = (
            [f.alias or n for n, f in parent.model_fields.items()]
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else []
        )
        hint = _did_you_mean(str(loc[-1]), valid)
        listed = f"valid fields here are: {', '.join(valid)}" if valid else ""
        return PolicyIssue(pointer, "unknown_field", f"unknown field {loc[-1]!r}; {hint}{listed}")
    if kind == "union_tag_invalid":
        ctx = error.get("ctx") or {}
        what, _ = _TAG_WORDS.get(str(ctx.get("discriminator")), ("value", ""))
        valid = [tag.strip(" '") for tag in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        hint = _did_you_mean(tag, valid)
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"unknown {what} {tag!r}; {hint}valid ones are: {', '.join(valid)}",
        )
    if kind == "union_tag_not_found":
        ctx = error.get("ctx") or {}
        key = str(ctx.get("discriminator", "")).strip("'")
        return PolicyIssue(pointer, "missing", f"the {key!r} field is missing")
    if kind == "enum":
        value = str(error.get("input"))
        hint = _did_you_mean(value, [reason.value for reason in Reason])
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"unknown reason code {value!r}; {hint}docs/policy.md lists every reason code",
        )
    if kind == "missing":
        return PolicyIssue(pointer, "missing", f"the field {path[-1]!r} is required")
    return describe_error(error, pointer)


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
        raise PolicyError(_tidy([_issue(detail) for detail in error.errors()])) from None


def _tidy(issues: list[PolicyIssue]) -> list[PolicyIssue]:
    """One issue per place where a value could be one thing or another (a ``state`` entry
    is "absent" or an object): the branch that went deeper says more."""
    pointers = {issue.pointer for issue in issues}
    merged: dict[tuple[str, str], PolicyIssue] = {}
    for issue in issues:
        branch = issue.code in ("invalid_value", "wrong_type")
        if branch and any(p.startswith(issue.pointer + "/") for p in pointers):
            continue
        key = (issue.pointer, "branch" if branch else issue.message)
        if key in merged:
            first = merged[key]
            issue = PolicyIssue(first.pointer, first.code, f"{first.message}; or {issue.message}")
        merged[key] = issue
    return list(merged.values())
