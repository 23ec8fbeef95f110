"""Reading what a server sends, tolerantly.

The server is strict about what clients send; a client is tolerant of what a
server sends, so that a bot deployed today keeps working against a newer
server (Postel's robustness principle, RFC 1122 section 1.2.2). A message
type this SDK does not know is logged and skipped; a field it does not know,
at any depth, is logged and dropped before the message is validated. What
remains is validated strictly: a known field with the wrong type is still an
error (a server bug, not a newer server).
"""

from __future__ import annotations

import json
import logging
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from meetwarden import protocol as wire

__all__ = ["read_server_message"]

log = logging.getLogger("meetwarden.client")

_TYPES: dict[str, type[BaseModel]] = {
    member.model_fields["type"].default: member
    for member in get_args(get_args(wire.ServerMessage)[0])
}
_reported: set[tuple[str, str]] = set()


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's annotation can hold (directly, in a list or optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin in (list, tuple, Union, types.UnionType) or str(origin) == "typing.Annotated":
        return [model for arg in get_args(annotation) for model in _models_in(arg)]
    return []


def _report(where: str, name: str) -> None:
    if (where, name) not in _reported:  # once per field, not once per message
        _reported.add((where, name))
        log.info("the server sent %s.%s, which this SDK does not know: ignored", where, name)


def _known(model: type[BaseModel], value: Any, where: str) -> Any:
    """``value`` with every key ``model`` does not declare removed, at every depth."""
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, item in value.items():
        field = model.model_fields.get(name)
        if field is None:
            _report(where, name)
            continue
        nested = _models_in(field.annotation)
        if nested and isinstance(item, list):
            item = [_known(nested[0], element, f"{where}.{name}") for element in item]
        elif nested:
            item = _known(nested[0], item, f"{where}.{name}")
        kept[name] = item
    return kept


def read_server_message(text: str | bytes) -> Any | None:
    """The message a server sent, or None for a type this SDK does not know.

    Raises ``ValueError`` (pydantic's ValidationError is one) for text that is not
    a message at all.
    """
    value = json.loads(text)
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ValueError("a server message is a JSON object with a string 'type'")
    model = _TYPES.get(value["type"])
    if model is None:
        _report("message", value["type"][:40])
        return None
    return model.model_validate_json(json.dumps(_known(model, value, value["type"])))
