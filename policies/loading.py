"""Reading a policy document into a validated Policy, with errors a host can act on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .errors import FieldError, PolicyError, PolicyIssue, pointer_of
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
    "greater_than_equal",
    "greater_than",
    "less_than_equal",
    "less_than",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


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
        valid = ", ".join(parent.model_fields) if parent else ""
        return PolicyIssue(
            pointer,
            "unknown_field",
            f"unknown field {loc[-1]!r}" + (f"; valid fields here are: {valid}" if valid else ""),
        )
    return describe_error(error, pointer)


def describe_error(error: ErrorDetails, pointer: str) -> PolicyIssue:
    """A pydantic error as an issue a host can act on, at ``pointer`` (types, ranges, values)."""
    kind = error["type"]
    value = error.get("input")
    loc = tuple(error["loc"])
    if kind in _TYPE_WORDS:
        return PolicyIssue(
            pointer,
            "wrong_type",
            f"expected {_TYPE_WORDS[kind]}, got {_describe(value)}",
        )
    if kind in _RANGE_CODES:
        return PolicyIssue(
            pointer,
            "out_of_range",
            f"{error['msg'].replace('Input should be', 'must be')}; got {_describe(value)}",
        )
    if kind == "literal_error":
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"{error['msg'].replace('Input should be', 'must be')}; got {_describe(value)}",
        )
    if kind in {"too_short", "too_long", "string_too_short", "string_too_long"}:
        ctx = error.get("ctx") or {}
        unit = "character" if kind.startswith("string") else "item"
        if "short" in kind:
            limit = ctx.get("min_length", 1)
            bound = f"at least {limit} {unit}{'s' if limit != 1 else ''}"
        else:
            limit = ctx.get("max_length", 0)
            bound = f"at most {limit} {unit}{'s' if limit != 1 else ''}"
        code = "too_short" if "short" in kind else "too_long"
        return PolicyIssue(pointer, code, f"must have {bound}; got {_describe(value)}")
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            return PolicyIssue(pointer_of((*loc, cause.field)), cause.code, str(cause))
        return PolicyIssue(pointer, "invalid_value", str(cause or error["msg"]))
    return PolicyIssue(pointer, "invalid_value", error["msg"])


def validate_policy(document: Mapping[str, Any] | Any) -> Policy:
    """Validates an already-parsed JSON value as a Policy, or raises PolicyError."""
    if not isinstance(document, Mapping):
        raise PolicyError(
            [PolicyIssue("", "wrong_type", f"a policy is a JSON object, got {_describe(document)}")]
        )
    try:
        # Validated in JSON mode, where arrays are valid for the frozen tuple fields;
        # the document was already parsed strictly (duplicates, non-finite numbers).
        text = json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PolicyError(
            [PolicyIssue("", "wrong_type", f"the policy holds a value JSON cannot carry: {error}")]
        ) from None
    try:
        return Policy.model_validate_json(text)
    except ValidationError as error:
        issues = [_issue(detail) for detail in error.errors()]
        raise PolicyError(issues) from None


def load_policy(data: bytes | str) -> Policy:
    """Parses and validates one policy document, or raises PolicyError with every issue."""
    return validate_policy(parse_json(data))
