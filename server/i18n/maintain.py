"""``python -m meetwarden.server.i18n.maintain``: the last step of ``make messages``.

English is a catalog too, so that every sentence can be checked to have a sentence
in every catalog: each English entry's ``msgstr`` is its ``msgid`` until someone
rewords it there. This fills the empty ones (new sentences) and leaves the rest.
"""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po

from .catalogs import DOMAIN, po_path

__all__ = ["fill_english"]


def fill_english() -> int:
    """Copies each untranslated English msgid into its msgstr; returns how many."""
    path = po_path("en")
    with path.open("rb") as file:
        messages = read_po(file, locale="en", domain=DOMAIN)
    filled = 0
    for message in messages:
        if message.id and isinstance(message.id, str) and not message.string:
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as file:
        write_po(file, messages, width=100, omit_header=False)
    return filled


if __name__ == "__main__":
    count = fill_english()
    sys.stdout.write(f"{po_path('en')}: {count} new English sentence(s)\n")
