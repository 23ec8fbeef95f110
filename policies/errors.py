"""Errors a host sees when a policy document is not valid.

Each issue names the JSON pointer (RFC 6901) of the field it is about, a
stable code, and a sentence that says what would be valid. As a Decision does,
an issue also says which sentence it is (``key``) and what the sentence needs
(``params``): the edge writes it in the reader's language from the message
catalogs (``meetwarden.server.i18n``); ``message`` is the same sentence in
English, written here, for readers with no catalog (the CLI's ``--json``, an
issue whose key has no catalog sentence, such as a pydantic error type this
module does not know).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FieldError",
    "IssueParams",
    "IssueValue",
    "PolicyError",
    "PolicyIssue",
    "counted",
    "listed",
    "pointer_of",
    "shown_value",
]

IssueValue = str | int | tuple[str, ...]
"""A parameter of an issue's sentence (as a Decision's: text, a number, a list of codes)."""
IssueParams = Mapping[str, IssueValue]


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One thing wrong with a policy document."""

    pointer: str
    """JSON pointer of the field ("" is the whole document)."""
    code: str
    """Stable code: not_utf8, not_json, too_large, too_deep, duplicate_key, not_finite,
    number_too_large, unknown_field, wrong_type, invalid_value, out_of_range,
    too_short, too_long, contradiction, missing (and, for a server's limits,
    no_scanner, no_media, upload_too_large)."""
    message: str
    """The sentence in English."""
    key: str = ""
    """Which sentence: pydantic's error type for a schema error (``int_type``,
    ``literal_error``, ``extra_forbidden``...), a rule's own for a validator's
    (``listed_twice``, ``grant_minutes_needs_with_grant``), else the code ("")."""
    params: IssueParams = field(default_factory=dict)
    """What the sentence needs: ``{"ge": 2, "input_type": "number", "input": "0"}``.
    ``input_type`` and ``input`` describe the value the document held (``shown_value``)."""

    @property
    def sentence(self) -> str:
        """The catalog key of the sentence: ``key``, else ``code``."""
        return self.key or self.code

    def to_json(self) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "code": self.code,
            "message": self.message,
            "key": self.sentence,
            "params": {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in self.params.items()
            },
        }

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class PolicyError(ValueError):
    """A policy document that cannot be used, with every issue found."""

    def __init__(self, issues: list[PolicyIssue] | tuple[PolicyIssue, ...]) -> None:
        self.issues: tuple[PolicyIssue, ...] = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class FieldError(ValueError):
    """Raised by a model validator to point at one field of its section: the English
    ``message``, the issue's ``code``, and the ``key`` and ``params`` of its sentence."""

    def __init__(
        self,
        field: str,
        message: str,
        code: str = "contradiction",
        *,
        key: str = "",
        **params: IssueValue,
    ) -> None:
        self.field = field
        self.code = code
        self.key = key
        self.params: dict[str, IssueValue] = params
        super().__init__(message)


_SHOWN_TEXT = 40


def shown_value(value: Any) -> tuple[str, str]:
    """How an issue names the value a document held: (``input_type``, ``input``).

    ``input_type`` is null, true, false, string, number, list, object or the Python
    type's name; ``input`` is the value as shown (a string JSON-quoted and cut at 40
    characters, a number as written), "" where the type says it all."""
    if value is None:
        return "null", ""
    if isinstance(value, bool):
        return ("true" if value else "false"), ""
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN_TEXT else value[: _SHOWN_TEXT - 3] + "..."
        return "string", json.dumps(shown, ensure_ascii=False)
    if isinstance(value, int | float):
        return "number", repr(value)
    if isinstance(value, list | tuple):
        return "list", ""
    if isinstance(value, dict):
        return "object", ""
    return type(value).__name__, ""


def pointer_of(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """The RFC 6901 pointer for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def counted(count: int, noun: str) -> str:
    """'1 error', '3 errors'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def listed(issues: Sequence[PolicyIssue], shown: int = 3) -> str:
    """The first ``shown`` issues as 'pointer: message', then 'and N more'."""
    parts = [str(issue) for issue in issues[:shown]]
    if len(issues) > shown:
        parts.append(f"and {len(issues) - shown} more")
    return "; ".join(parts)
