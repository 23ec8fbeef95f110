"""Strict JSON reading for documents a person wrote (policies, case files).

The standard library's ``json`` keeps the last of two duplicate keys, accepts
``NaN`` and ``Infinity`` and recurses until Python's stack runs out on deep
nesting (shared/notes/security-bar.md, V7). A policy read that way could say
two different things to two readers (Jitsi JSA-2023-0001 was exactly such a
duplicate-key mismatch). Here every one of those is an error naming the JSON
pointer of the place it happened.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import PolicyError, PolicyIssue, pointer_of

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "parse_json"]

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_DEPTH = 32
_MAX_INT_DIGITS = 30


class _Object(dict[str, Any]):
    """A JSON object that remembers keys its source repeated."""

    __slots__ = ("duplicates",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.duplicates: list[str] = []
        for key, value in pairs:
            if key in self:
                self.duplicates.append(key)
            else:
                self[key] = value


class _Bad:
    """Stands in for a number JSON should not carry; reported with its pointer."""

    __slots__ = ("code", "text")

    def __init__(self, code: str, text: str) -> None:
        self.code = code
        self.text = text


def _parse_constant(text: str) -> _Bad:
    return _Bad("not_finite", text)


def _parse_float(text: str) -> float | _Bad:
    value = float(text)
    return value if math.isfinite(value) else _Bad("not_finite", text)


def _parse_int(text: str) -> int | _Bad:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS:
        return _Bad("number_too_large", text[:12] + "...")
    return int(text)


class _Reading:
    """One document's hooks into ``json.loads``. Each notes whether it met something that
    needs reporting by pointer (a repeated key, a number JSON should not carry): a
    document with none, nearly every one, is then the parser's own tree, not walked
    again (every protocol message is read this way)."""

    __slots__ = ("flagged",)

    def __init__(self) -> None:
        self.flagged = False

    def on_object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) == len(pairs):
            return found
        self.flagged = True
        return _Object(pairs)

    def on_constant(self, text: str) -> _Bad:
        self.flagged = True
        return _parse_constant(text)

    def on_float(self, text: str) -> float | _Bad:
        value = _parse_float(text)
        if isinstance(value, _Bad):
            self.flagged = True
        return value

    def on_int(self, text: str) -> int | _Bad:
        value = _parse_int(text)
        if isinstance(value, _Bad):
            self.flagged = True
        return value


def _nesting_error(text: str, max_depth: int) -> PolicyIssue | None:
    """Finds nesting deeper than max_depth before the parser recurses into it."""
    if text.count("[") + text.count("{") <= max_depth:
        return None  # no deeper than the brackets it opens (a protocol message: one or two)
    depth = 0
    in_string = False
    escaped = False
    line = 1
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                column = index - text.rfind("\n", 0, index)
                return PolicyIssue(
                    "",
                    "too_deep",
                    f"the document nests more than {max_depth} levels deep (line {line}, "
                    f"column {column}); a policy needs far fewer",
                    params={"max_depth": max_depth, "line": line, "column": column},
                )
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line += 1
    return None


def _collect(value: Any, path: list[str | int], issues: list[PolicyIssue]) -> Any:
    """Walks the parsed tree, reporting duplicates and bad numbers by pointer."""
    if isinstance(value, dict):
        for key in value.duplicates if isinstance(value, _Object) else ():
            issues.append(
                PolicyIssue(
                    pointer_of([*path, key]),
                    "duplicate_key",
                    f"the key {key!r} appears more than once in this object; "
                    "keep exactly one (duplicates are never resolved silently)",
                    params={"key": key},
                )
            )
        return {key: _collect(item, [*path, key], issues) for key, item in value.items()}
    if isinstance(value, list):
        return [_collect(item, [*path, index], issues) for index, item in enumerate(value)]
    if isinstance(value, _Bad):
        if value.code == "not_finite":
            message = f"{value.text} is not a number JSON allows; use a finite number"
        else:
            message = f"the number {value.text} is far too large; use a number in range"
        issues.append(
            PolicyIssue(pointer_of(path), value.code, message, params={"number": value.text})
        )
        return None
    return value


def parse_json(
    data: bytes | str,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parses one JSON document strictly, or raises PolicyError with every issue."""
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise PolicyError(
                [
                    PolicyIssue(
                        "",
                        "too_large",
                        f"the document is {len(data)} bytes; the limit is {max_bytes} bytes",
                        params={"size": len(data), "limit": max_bytes},
                    )
                ]
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PolicyError(
                [
                    PolicyIssue(
                        "",
                        "not_utf8",
                        f"the file is not UTF-8 text (byte {error.start} is not valid UTF-8); "
                        "save it as UTF-8 JSON",
                        params={"byte": error.start},
                    )
                ]
            ) from None
    else:
        text = data
        if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise PolicyError(
                [
                    PolicyIssue(
                        "",
                        "too_large",
                        f"the document is over the {max_bytes}-byte limit",
                        params={"limit": max_bytes},
                    )
                ]
            )
    text = text.removeprefix("\ufeff")
    deep = _nesting_error(text, max_depth)
    if deep is not None:
        raise PolicyError([deep])
    reading = _Reading()
    try:
        raw = json.loads(
            text,
            object_pairs_hook=reading.on_object,
            parse_constant=reading.on_constant,
            parse_float=reading.on_float,
            parse_int=reading.on_int,
        )
    except json.JSONDecodeError as error:
        raise PolicyError(
            [
                PolicyIssue(
                    "",
                    "not_json",
                    f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
                    # The parser's own words (``Expecting value``) are its phrase's code.
                    params={"problem": error.msg, "line": error.lineno, "column": error.colno},
                )
            ]
        ) from None
    if not reading.flagged:
        return raw
    issues: list[PolicyIssue] = []
    value = _collect(raw, [], issues)
    if issues:
        raise PolicyError(issues)
    return value
