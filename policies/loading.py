"""Reading a policy document into a validated Policy, with errors a host can act on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .errors import FieldError, IssueValue, PolicyError, PolicyIssue, pointer_of, shown_value
from .jsonload import parse_json
from .model import Policy

__all__ = ["describe_error", "load_policy", "validate_policy"]

_TYPE_WORDS = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
}

_RANGE_CODES = {
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "less_than_equal": "le",
    "less_than": "lt",
}

_LENGTH_CODES = {"too_short", "too_long", "string_too_short", "string_too_long"}

# pydantic-core writes a Literal's choices as their reprs, the last after " or ".
_CHOICE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[\w.+-]+")


def _described(kind: str, shown: str) -> str:
    """The English words for a value, from ``shown_value``."""
    if kind == "string":
        return f"the string {shown}"
    if kind == "number":
        return f"the number {shown}"
    return {"list": "a list", "object": "an object"}.get(kind, kind)


def _describe(value: Any) -> str:
    return _described(*shown_value(value))


def _input(value: Any) -> dict[str, IssueValue]:
    kind, shown = shown_value(value)
    return {"input_type": kind, "input": shown}


def _choices(expected: str) -> tuple[str, ...]:
    """The choices of a ``literal_error`` (``"'a', 'b' or 'c'"``) one by one, each as
    written; the whole text as one choice if it cannot be split back into them."""
    head, _, last = expected.rpartition(" or ")
    items = (*head.split(", "), last) if head else (last,)
    return items if all(_CHOICE.fullmatch(item) for item in items) else (expected,)


def _number(value: Any) -> IssueValue:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validates the object at path, if any."""
    model: type[BaseModel] = Policy
    for part in path:
        if not isinstance(part, str):
            return None
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _issue(error: ErrorDetails) -> PolicyIssue:
    loc = tuple(error["loc"])
    pointer = pointer_of(loc)
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        valid = tuple(parent.model_fields) if parent else ()
        return PolicyIssue(
            pointer,
            "unknown_field",
            f"unknown field {loc[-1]!r}"
            + (f"; valid fields here are: {', '.join(valid)}" if valid else ""),
            "extra_forbidden",
            {"field": str(loc[-1]), **({"valid": valid} if valid else {})},
        )
    return describe_error(error, pointer)


def describe_error(error: ErrorDetails, pointer: str) -> PolicyIssue:
    """A pydantic error as an issue a host can act on, at ``pointer`` (types, ranges, values).

    The issue's key is pydantic's error type, its params the error's context and the
    value found (``input_type``, ``input``); an error type not described here keeps
    pydantic's own English sentence."""
    kind = error["type"]
    value = error.get("input")
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    got = _describe(value)
    if kind in _TYPE_WORDS:
        return PolicyIssue(
            pointer, "wrong_type", f"expected {_TYPE_WORDS[kind]}, got {got}", kind, _input(value)
        )
    if kind in _RANGE_CODES:
        bound = _RANGE_CODES[kind]
        return PolicyIssue(
            pointer,
            "out_of_range",
            f"{error['msg'].replace('Input should be', 'must be')}; got {got}",
            kind,
            {bound: _number(ctx.get(bound)), **_input(value)},
        )
    if kind == "literal_error":
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"{error['msg'].replace('Input should be', 'must be')}; got {got}",
            kind,
            {"expected": _choices(str(ctx.get("expected", ""))), **_input(value)},
        )
    if kind in _LENGTH_CODES:
        unit = "character" if kind.startswith("string") else "item"
        if "short" in kind:
            limit = ctx.get("min_length", 1)
            bound = f"at least {limit} {unit}{'s' if limit != 1 else ''}"
            params: dict[str, IssueValue] = {"min_length": _number(limit)}
        else:
            limit = ctx.get("max_length", 0)
            bound = f"at most {limit} {unit}{'s' if limit != 1 else ''}"
            params = {"max_length": _number(limit)}
        code = "too_short" if "short" in kind else "too_long"
        return PolicyIssue(
            pointer, code, f"must have {bound}; got {got}", kind, {**params, **_input(value)}
        )
    if kind == "missing":
        name = str(loc[-1]) if loc else ""
        return PolicyIssue(
            pointer, "missing", f"the field {name!r} is required", kind, {"field": name}
        )
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, FieldError):
            return PolicyIssue(
                pointer_of((*loc, cause.field)), cause.code, str(cause), cause.key, cause.params
            )
        return PolicyIssue(pointer, "invalid_value", str(cause or error["msg"]), kind)
    return PolicyIssue(pointer, "invalid_value", error["msg"], kind)


def validate_policy(document: Mapping[str, Any] | Any) -> Policy:
    """Validates an already-parsed JSON value as a Policy, or raises PolicyError."""
    if not isinstance(document, Mapping):
        raise PolicyError(
            [
                PolicyIssue(
                    "",
                    "wrong_type",
                    f"a policy is a JSON object, got {_describe(document)}",
                    "policy_not_object",
                    _input(document),
                )
            ]
        )
    try:
        # Validated in JSON mode, where arrays are valid for the frozen tuple fields;
        # the document was already parsed strictly (duplicates, non-finite numbers).
        text = json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PolicyError(
            [
                PolicyIssue(
                    "",
                    "wrong_type",
                    f"the policy holds a value JSON cannot carry: {error}",
                    "not_a_json_value",
                    {"problem": str(error)},
                )
            ]
        ) from None
    try:
        return Policy.model_validate_json(text)
    except ValidationError as error:
        issues = [_issue(detail) for detail in error.errors()]
        raise PolicyError(issues) from None


def load_policy(data: bytes | str) -> Policy:
    """Parses and validates one policy document, or raises PolicyError with every issue."""
    return validate_policy(parse_json(data))
