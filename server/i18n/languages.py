"""Which language a person reads: English and Simplified Chinese, English by default.

A language arrives as a BCP 47 tag: the ``language`` of a join message, the
browser's ``navigator.languages``, an ``Accept-Language`` header (RFC 9110,
section 12.5.4) or ``policy explain --lang``. Anything this server has no catalog
for falls back to English. Chinese is Simplified unless the tag says otherwise:
``zh``, ``zh-CN``, ``zh-Hans`` and ``zh-SG`` read Simplified Chinese; a tag that asks
for Traditional script or a Traditional region (``zh-Hant``, ``zh-TW``, ``zh-HK``,
``zh-MO``) is a language we do not have yet, so it falls to the next choice.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Language",
    "from_accept_language",
    "locale_of",
    "pick_language",
    "supported",
]

Language = Literal["en", "zh-CN"]
LANGUAGES: tuple[Language, ...] = ("en", "zh-CN")
DEFAULT_LANGUAGE: Language = "en"
LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "zh-CN": "简体中文"}
"""Each language in its own words, as a language switch shows it."""

_LOCALES: dict[Language, str] = {"en": "en", "zh-CN": "zh_CN"}
_TRADITIONAL = frozenset({"hant", "tw", "hk", "mo"})
_MAX_TAG = 35  # RFC 5646 section 4.4.1: 35 characters hold any tag worth matching
_MAX_HEADER = 1024


def locale_of(language: Language) -> str:
    """The gettext locale of a language: ``zh-CN`` is ``zh_CN``."""
    return _LOCALES[language]


def supported(tag: str) -> Language | None:
    """The language a tag asks for, if this server has it; else None."""
    parts = tag.strip().replace("_", "-").lower().split("-")
    if len(tag) > _MAX_TAG or not parts[0]:
        return None
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh" and not _TRADITIONAL.intersection(parts[1:]):
        return "zh-CN"
    return None


def pick_language(tag: str | None) -> Language:
    """The language for one tag (a join's ``language``): English unless we have it."""
    return (supported(tag) if tag else None) or DEFAULT_LANGUAGE


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


def from_accept_language(header: str | None) -> Language:
    """The best language an ``Accept-Language`` header names that we have (English if none).

    Ranges are taken by their q-values, then in the order given; ``*`` and ranges with
    ``q=0`` choose nothing. A malformed header is read as far as it makes sense."""
    if not header:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:_MAX_HEADER].split(",")):
        tag, *parameters = item.split(";")
        quality = _quality(parameters)
        if tag.strip() and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(ranked):
        language = supported(tag)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE
