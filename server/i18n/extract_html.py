"""A Babel extractor for the client's HTML pages: every sentence a page shows.

The browser client translates its pages as they load (``translatePage`` in
``server/web/js/i18n.js``): each text node, whitespace collapsed, and the
``title``, ``alt``, ``placeholder`` and ``aria-label`` attributes. This extractor
finds the same texts, by the same rules, so that ``make messages`` puts them in the
catalogs: nothing inside ``script``, ``style`` or ``code``, nor inside an element
marked ``translate="no"`` (HTML's own attribute for what must stay as written).

Babel's mapping file names it: ``[extractors] html = meetwarden.server.i18n.extract_html:extract``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import IO, Any

__all__ = ["TRANSLATED_ATTRIBUTES", "extract", "page_texts"]

TRANSLATED_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
_SKIPPED = frozenset({"script", "style", "code"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_SPACES = re.compile(r"\s+")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._open: list[bool] = []  # for each open element: is its content skipped?

    @property
    def _skipping(self) -> bool:
        return bool(self._open) and self._open[-1]

    def _add(self, text: str) -> None:
        text = _SPACES.sub(" ", text).strip()
        if text and any(char.isalpha() for char in text):
            self.found.append((self.getpos()[0], text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = self._skipping or tag in _SKIPPED or values.get("translate") == "no"
        if not skipped:
            for name in TRANSLATED_ATTRIBUTES:
                self._add(values.get(name) or "")
        if tag not in _VOID:
            self._open.append(skipped)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._add(data)


def page_texts(html: str) -> list[tuple[int, str]]:
    """(line, text) of every translatable text of a page, in document order."""
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser.found


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface: (line, function name, message, comments)."""
    html = fileobj.read().decode(options.get("encoding", "utf-8"))
    for line, text in page_texts(html):
        yield line, None, text, []
