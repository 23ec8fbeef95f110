"""Building wire messages from a bot's arguments: a bad one is an InvalidArgumentError.

The wire models are strict pydantic models; their ValidationError names
pydantic's internals. A bot author gets instead the argument, the value given
and, for a choice (a source, a share kind, a role), every valid choice.
"""

from __future__ import annotations

import types
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import InvalidArgumentError

__all__ = ["build", "choices_of"]

M = TypeVar("M", bound=BaseModel)


def choices_of(annotation: Any) -> list[str]:
    """The values a ``Literal`` annotation (perhaps optional or annotated) allows."""
    origin = get_origin(annotation)
    if origin is Literal:
        return [str(value) for value in get_args(annotation)]
    if origin in (Union, types.UnionType) or str(origin) == "typing.Annotated":
        return [choice for arg in get_args(annotation) for choice in choices_of(arg)]
    return []


def build(model: type[M], **fields: Any) -> M:
    """``model(**fields)``, or InvalidArgumentError naming the first field that is wrong."""
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        location = [str(part) for part in first["loc"]]
        argument = location[0] if location else model.__name__
        field = model.model_fields.get(argument)
        choices = choices_of(field.annotation) if field is not None else []
        value = fields.get(argument, first.get("input"))
        problem = str(first["msg"]).removeprefix("Value error, ")
        if choices:
            problem = f"not a valid {argument}"
        raise InvalidArgumentError(argument, value, problem, choices) from None
