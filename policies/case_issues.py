"""A case file's validation errors as issues a policy author can act on.

pydantic's errors name its own places (union tags, ``loc`` tuples); these are turned
into the JSON pointer of the file, a stable code, and a sentence that says what would
be valid, with a did-you-mean (``alowed`` -> ``allowed``).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field
from pydantic_core import ErrorDetails

from .errors import IssueValue, PolicyIssue, pointer_of
from .loading import describe_error
from .reasons import Reason

__all__ = ["issues_of"]


def issues_of(root: type[BaseModel], errors: Sequence[ErrorDetails]) -> list[PolicyIssue]:
    """The issues of a failed validation of ``root``, one per place."""
    return _tidy([_issue(root, error) for error in errors])


_TAG_WORDS = {"'type'": ("event type", "steps"), "'effect'": ("effect", "effects")}


def _unwrap(hint: Any) -> tuple[Any, str | None]:
    discriminator = None
    while get_origin(hint) is Annotated:
        hint, *metadata = get_args(hint)
        for meta in metadata:
            discriminator = getattr(meta, "discriminator", None) or discriminator
    return hint, discriminator


def _walk(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[list[str | int], Any]:
    """The JSON path of pydantic's ``loc`` (union tags left out), and the type found there."""
    path: list[str | int] = []
    current: Any = root
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


def _did_you_mean(word: str, valid: list[str]) -> dict[str, IssueValue]:
    """``{"suggestion": closest}`` when one of ``valid`` is close to ``word``, else {}."""
    close = difflib.get_close_matches(word, valid, n=1, cutoff=0.6)
    return {"suggestion": close[0]} if close else {}


def _hint(params: Mapping[str, IssueValue]) -> str:
    return f"did you mean {params['suggestion']!r}? " if "suggestion" in params else ""


def _issue(root: type[BaseModel], error: ErrorDetails) -> PolicyIssue:
    loc = tuple(error["loc"])
    path, _ = _walk(root, loc)
    pointer = pointer_of(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        _, parent = _walk(root, loc[:-1])
        parent, _ = _unwrap(parent)
        valid = (
            [f.alias or n for n, f in parent.model_fields.items()]
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else []
        )
        field = str(loc[-1])
        params: dict[str, IssueValue] = {"field": field, **_did_you_mean(field, valid)}
        message = f"unknown field {field!r}"
        if valid:
            params["valid"] = tuple(valid)
            message += f"; {_hint(params)}valid fields here are: {', '.join(valid)}"
        return PolicyIssue(pointer, "unknown_field", message, kind, params)
    if kind == "union_tag_invalid":
        ctx = error.get("ctx") or {}
        discriminator = str(ctx.get("discriminator"))
        what, _ = _TAG_WORDS.get(discriminator, ("value", ""))
        valid = [tag.strip(" '") for tag in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        params = {"what": discriminator.strip("'"), "tag": tag, **_did_you_mean(tag, valid)}
        params["valid"] = tuple(valid)
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"unknown {what} {tag!r}; {_hint(params)}valid ones are: {', '.join(valid)}",
            kind,
            params,
        )
    if kind == "union_tag_not_found":
        ctx = error.get("ctx") or {}
        key = str(ctx.get("discriminator", "")).strip("'")
        return PolicyIssue(
            pointer, "missing", f"the {key!r} field is missing", kind, {"field": key}
        )
    if kind == "enum":
        value = str(error.get("input"))
        params = {"value": value, **_did_you_mean(value, [reason.value for reason in Reason])}
        return PolicyIssue(
            pointer,
            "invalid_value",
            f"unknown reason code {value!r}; {_hint(params)}docs/policy.md lists every reason code",
            "unknown_reason_code",
            params,
        )
    if kind == "missing":
        name = str(path[-1])
        return PolicyIssue(
            pointer, "missing", f"the field {name!r} is required", kind, {"field": name}
        )
    return describe_error(error, pointer)


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
            # Two sentences in one: no single sentence of the catalogs says it (English stays).
            issue = PolicyIssue(
                first.pointer, first.code, f"{first.message}; or {issue.message}", "either"
            )
        merged[key] = issue
    return list(merged.values())
