"""What every section of a policy shares: strict, closed and frozen models.

The models are strict (no lax coercion: ``"off"`` is not ``false``), forbid
unknown fields and are frozen, so a validated policy can be shared by every
decision without copying. A section knows which fields the host wrote, so a
validator can refuse a choice that contradicts another only when it was made.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..errors import FieldError

__all__ = ["Section", "ShortText", "no_duplicates"]

ShortText = Annotated[str, Field(min_length=1, max_length=64)]


class Section(BaseModel):
    """The base of every section (a section's own docstring would be its schema description)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def explicitly_set(self, field: str) -> bool:
        """True when the host wrote this field, rather than taking its default."""
        return field in self.model_fields_set


def no_duplicates(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``values`` unchanged, or a FieldError on ``what`` naming the first one listed twice."""
    seen: set[str] = set()
    for value in values:
        key = value.casefold()
        if key in seen:
            raise FieldError(
                what,
                f"{value!r} is listed twice; list each one once",
                "invalid_value",
                key="listed_twice",
                value=value,
            )
        seen.add(key)
    return values
