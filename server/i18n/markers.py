"""Marks the English sentences for ``pybabel extract`` and keeps them for lookups.

Two kinds of sentence:

- a *keyed* sentence, ``M_(key, english)``: a decision's reason code, a notice's
  topic or a part of a policy's explanation, refined by the parameters it applies
  to: ``"share_needs_grant|kind=screen"`` is the sentence for that reason when the
  parameter ``kind`` is ``screen``. The key becomes the catalog entry's ``msgctxt``.
- a plain one, ``N_(english)``: the English text is the message id (gettext's way,
  as the browser client's ``t()``).

In both the English text is the ``msgid``, so a sentence not yet translated still
reads well. Placeholders are ``{name}``; ``rendering.py`` describes the formats.
"""

from __future__ import annotations

__all__ = ["M_", "N_", "SENTENCES"]

SENTENCES: dict[str, str] = {}
"""Every keyed sentence: key -> English."""


def M_(key: str, english: str) -> None:  # noqa: N802 (gettext's marker names)
    """Declares the English sentence for ``key``."""
    if key in SENTENCES and SENTENCES[key] != english:
        raise ValueError(f"two sentences for {key!r}")
    SENTENCES[key] = english


def N_(english: str) -> str:  # noqa: N802
    """Marks a plain sentence for extraction; it is translated where it is used."""
    return english
