"""The one error type of the media plane: a stable code beside a readable sentence.

The meeting runtime maps the code to its wire error; the sentence is what the
participant sees. The real cause (an aiortc traceback, say) goes to the log,
never to the client (STYLE.md, "Errors").
"""

from __future__ import annotations

__all__ = ["MediaError"]


class MediaError(Exception):
    """A request to the media plane that cannot be honoured.

    ``code`` is stable and machine-readable (``bad_offer``, ``source_changed``,
    ``ice_restart_unsupported``, ...); ``message`` says what would be valid.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
