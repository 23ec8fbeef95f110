"""Errors a host sees when a policy document is not valid.

Each issue names the JSON pointer (RFC 6901) of the field it is about, a
stable code, and a sentence that says what would be valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FieldError", "PolicyError", "PolicyIssue", "counted", "listed", "pointer_of"]


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One thing wrong with a policy document."""

    pointer: str
    """JSON pointer of the field ("" is the whole document)."""
    code: str
    """Stable code: not_utf8, not_json, too_large, too_deep, duplicate_key, not_finite,
    number_too_large, unknown_field, wrong_type, invalid_value, out_of_range,
    too_short, too_long, contradiction."""
    message: str

    def to_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class PolicyError(ValueError):
    """A policy document that cannot be used, with every issue found."""

    def __init__(self, issues: list[PolicyIssue] | tuple[PolicyIssue, ...]) -> None:
        self.issues: tuple[PolicyIssue, ...] = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class FieldError(ValueError):
    """Raised by a model validator to point at one field of its section."""

    def __init__(self, field: str, message: str, code: str = "contradiction") -> None:
        self.field = field
        self.code = code
        super().__init__(message)


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
