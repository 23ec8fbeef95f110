"""A Babel extractor for the policy's field help: every ``description`` of its JSON Schema.

The published JSON Schema (``meetwarden policy schema``, ``GET /api/policies/schema``)
stays in English, as ``docs/policy.md`` is; the web editor shows a field's
description through ``t()`` (``server/web/js/editor.js``), so each description is a
plain sentence of the catalogs. Babel's mapping file names this extractor for
``policies/model.py``, the module that holds the whole policy:
``[extractors] policy_schema = meetwarden.server.i18n.extract_schema:extract``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from meetwarden.policies.model import Policy

__all__ = ["descriptions", "extract"]


def _walk(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "description" and isinstance(value, str):
                if value not in found:
                    found.append(value)
            else:
                _walk(value, found)
    elif isinstance(node, list):
        for item in node:
            _walk(item, found)


def descriptions() -> list[str]:
    """Every description of the policy's JSON Schema, once each, in schema order."""
    found: list[str] = []
    _walk(Policy.model_json_schema(), found)
    return found


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface: (line, function name, message, comments)."""
    for text in descriptions():
        yield 1, None, text, ["The policy editor's help for a field (its JSON Schema)."]
