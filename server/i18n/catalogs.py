"""The message catalogs: gettext ``.po`` files, one per language, read with Babel.

``locales/meetwarden.pot`` is the template ``make messages`` extracts from the
sources (``pybabel extract``: the Python markers of ``markers.py`` and every
``t('...')`` of the browser client); ``locales/<locale>/LC_MESSAGES/meetwarden.po``
holds each language's sentences. English is a catalog too: its ``msgstr`` may
reword a sentence without changing the message id. The files are read once, at
first use; an entry marked fuzzy is not used (its English stands in).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

from .languages import Language, locale_of

__all__ = ["DOMAIN", "LOCALES_DIR", "Catalog", "catalog", "po_path"]

DOMAIN = "meetwarden"
LOCALES_DIR = Path(__file__).parent / "locales"


@dataclass(frozen=True, slots=True)
class Catalog:
    language: Language
    keyed: dict[tuple[str, str], str] = field(default_factory=dict)
    """(msgctxt, English msgid) -> sentence, for keyed sentences."""
    plain: dict[str, str] = field(default_factory=dict)
    """English msgid -> sentence, for sentences without a context."""


def po_path(language: Language) -> Path:
    return LOCALES_DIR / locale_of(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(language: Language) -> Catalog:
    """The sentences of one language (empty if its file is missing: English stands in)."""
    found = Catalog(language)
    path = po_path(language)
    if not path.exists():
        return found
    with path.open("rb") as file:
        messages = read_po(file, locale=locale_of(language), domain=DOMAIN)
    for message in messages:
        if not message.id or message.fuzzy or not isinstance(message.id, str):
            continue  # the header, plural entries (none are used) and unsure sentences
        text = message.string if isinstance(message.string, str) else ""
        if not text:
            continue
        if message.context:
            found.keyed[(message.context, message.id)] = text
        else:
            found.plain[message.id] = text
    return found
