"""Writes sentences: picks the sentence a key and its parameters ask for, in a language,
and fills in its placeholders.

Picking. A key such as ``granted`` may have refined sentences (``granted|kind=screen``);
the most specific whose conditions all hold is taken (``k=*`` holds when the
parameter is there at all), and the bare key is the fallback. Conditions are read
from the parameters and, for notices, from ``audience`` and ``kind``.

Placeholders. ``{name}`` is the value as it is (a list is joined with the language's
comma). A format after a colon writes the value in the reader's language:

- ``{bytes:size}``: a number of bytes, as ``1.5 MB``
- ``{seconds:duration}``: seconds, as ``10 minutes`` or ``90 seconds``
- ``{allowed:list}``, ``{words:quoted}``: a list, joined (each in quotes)
- ``{cause:phrase.camera_cause}``: a code written as the catalog's
  ``phrase:camera_cause=<code>`` says (``stopped`` is "stopped sending video")
- ``{allowed:or.surface}``, ``{bypass:and.bypass}``: a list of codes, each written
  as its phrase, joined with "or" / "and"

A placeholder without a value is left as it is (the catalog test makes sure none is).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .catalogs import catalog
from .languages import Language
from .markers import SENTENCES

__all__ = [
    "AnyParams",
    "AnyValue",
    "conditions_of",
    "fill",
    "has_sentence",
    "keyed",
    "plain",
    "variants",
]

AnyValue = str | int | tuple[str, ...] | list[str]
"""A parameter as the engine gives it (lists as tuples) or as the wire carries it."""
AnyParams = Mapping[str, AnyValue]

_PLACEHOLDER = re.compile(r"\{(\w+)(?::([\w.]+))?\}")
_KIB, _MIB = 1024, 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Style:
    """How a language writes what the catalog cannot: lists and quotes."""

    comma: str
    or_: str
    and_: str
    quote: str
    sentence_gap: str


_STYLES: dict[Language, _Style] = {
    "en": _Style(", ", " or ", " and ", '"{}"', " "),
    "zh-CN": _Style("、", "或", "和", "“{}”", ""),
}


def sentence_gap(language: Language) -> str:
    """What stands between two sentences: a space in English, nothing in Chinese."""
    return _STYLES[language].sentence_gap


def conditions_of(key: str) -> tuple[str, dict[str, str]]:
    """``"granted|kind=screen"`` -> (``"granted"``, ``{"kind": "screen"}``)."""
    base, *parts = key.split("|")
    return base, dict(part.split("=", 1) for part in parts)


@functools.cache
def variants(base: str) -> tuple[tuple[dict[str, str], str], ...]:
    """The keys of ``base``'s sentences with their conditions, most specific first."""
    found = [
        (conditions, key)
        for key in SENTENCES
        for key_base, conditions in [conditions_of(key)]
        if key_base == base
    ]
    return tuple(sorted(found, key=lambda item: -len(item[0])))


def has_sentence(base: str) -> bool:
    return bool(variants(base))


def _as_text(value: AnyValue) -> str:
    return ",".join(value) if isinstance(value, tuple | list) else str(value)


def _holds(conditions: dict[str, str], attributes: Mapping[str, str]) -> bool:
    return all(
        name in attributes and (wanted == "*" or attributes[name] == wanted)
        for name, wanted in conditions.items()
    )


def _translated(key: str, language: Language) -> str:
    english = SENTENCES[key]
    return catalog(language).keyed.get((key, english)) or english


def keyed(
    base: str,
    params: AnyParams,
    language: Language,
    attributes: Mapping[str, str] | None = None,
) -> str | None:
    """The sentence for ``base`` and these parameters, written; None if it has none."""
    given = {name: _as_text(value) for name, value in params.items()}
    given.update(attributes or {})
    for conditions, key in variants(base):
        if _holds(conditions, given):
            return fill(_translated(key, language), params, language)
    return None


def plain(english: str, language: Language, params: AnyParams) -> str:
    """A sentence whose message id is its English text, translated and filled in."""
    text = catalog(language).plain.get(english) or english
    return fill(text, params, language) if params else text


def _phrase(kind: str, code: str, language: Language) -> str:
    key = f"phrase:{kind}={code}"
    return _translated(key, language) if key in SENTENCES else code


def _count(unit: str, count: int, language: Language) -> str:
    return keyed(f"unit:{unit}", {"count": count}, language) or f"{count} {unit}"


def _size(value: int, language: Language) -> str:
    if value >= _MIB:
        return f"{value // _MIB} MB" if value % _MIB == 0 else f"{value / _MIB:.1f} MB"
    if value >= _KIB:
        return f"{value // _KIB} KB" if value % _KIB == 0 else f"{value / _KIB:.0f} KB"
    return _count("bytes", value, language)


def _duration(value: int, language: Language) -> str:
    if value >= 60 and value % 60 == 0:
        return _count("minutes", value // 60, language)
    return _count("seconds", value, language)


def _joined(items: list[str], last: str, style: _Style) -> str:
    if len(items) <= 1:
        return "".join(items)
    return style.comma.join(items[:-1]) + last + items[-1]


def _formatted(value: AnyValue, form: str | None, language: Language) -> str:
    style = _STYLES[language]
    items = [str(item) for item in value] if isinstance(value, tuple | list) else [str(value)]
    if form is None or form == "list":
        return style.comma.join(items)
    if form == "quoted":
        return style.comma.join(style.quote.format(item) for item in items)
    if form in ("size", "duration") and isinstance(value, int):
        return _size(value, language) if form == "size" else _duration(value, language)
    how, _, kind = form.partition(".")
    if how == "phrase":
        return style.comma.join(_phrase(kind, item, language) for item in items)
    if how in ("or", "and"):
        words = [_phrase(kind, item, language) for item in items]
        return _joined(words, style.or_ if how == "or" else style.and_, style)
    return style.comma.join(items)


def fill(text: str, params: AnyParams, language: Language) -> str:
    """``text`` with each ``{placeholder}`` written from ``params``."""

    def one(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2)
        if name not in params:
            return match.group(0)
        return _formatted(params[name], form, language)

    return _PLACEHOLDER.sub(one, text)
