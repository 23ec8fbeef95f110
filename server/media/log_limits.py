"""Logging that a stranger cannot flood, and aiortc's and aioice's lines in the server's log.

Anything logged per datagram can be triggered per datagram by anyone who can
reach a media port, so such lines go through a ``LogLimiter``: a few lines per
kind, then one now and then saying how many were left out (Janus reviewers
asked for exactly this throttling of a per-packet line, janus-gateway PR #3636).

aiortc and aioice log to a ``NullHandler`` of their own, so with no logging
configured their warnings went nowhere (not even to Python's last-resort
handler, which only speaks when no handler at all was found). ``route_library_logs``
hands their records, rate-limited and from WARNING up unless a level was set on
them, to loggers under ``meetwarden.server.media``, which reach the server's log
wherever the media plane's own lines do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["LIBRARY_LOGGERS", "LogLimiter", "route_library_logs"]

LIBRARY_LOGGERS = ("aiortc", "aioice")
_PREFIX = "meetwarden.server.media."


class LogLimiter:
    """A token bucket per kind of line: ``burst`` lines at once, then one per ``interval``.

    ``allow`` says whether a line of that kind may be written now and, if so, how
    many of its kind were left out since the last one written. At most
    ``max_kinds`` kinds are remembered (the oldest is forgotten first), so the
    limiter's memory is bounded whatever the kinds are made of.
    """

    def __init__(
        self,
        burst: int = 5,
        interval: float = 60.0,
        *,
        max_kinds: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._interval = interval
        self._max_kinds = max_kinds
        self._clock = clock
        self._kinds: dict[Hashable, list[float]] = {}  # kind -> [tokens, updated, left out]

    def allow(self, kind: Hashable) -> int | None:
        """None if this line is to be left out; else how many of its kind were left out."""
        now = self._clock()
        entry = self._kinds.get(kind)
        if entry is None:
            if len(self._kinds) >= self._max_kinds:
                del self._kinds[next(iter(self._kinds))]
            entry = self._kinds[kind] = [float(self._burst), now, 0.0]
        else:
            entry[0] = min(self._burst, entry[0] + (now - entry[1]) / self._interval)
            entry[1] = now
        if entry[0] < 1.0:
            entry[2] += 1
            return None
        entry[0] -= 1.0
        left_out, entry[2] = int(entry[2]), 0.0
        return left_out

    def log(
        self,
        logger: logging.Logger,
        level: int,
        kind: Hashable,
        message: str,
        *args: Any,
        exc_info: bool = False,
    ) -> None:
        """``logger.log(level, message, *args)`` unless too many of ``kind`` were written."""
        if not logger.isEnabledFor(level):
            return
        left_out = self.allow(kind)
        if left_out is None:
            return
        if left_out:
            message += " (%d more like this left out)"
            args = (*args, left_out)
        logger.log(level, message, *args, exc_info=exc_info)


class _LibraryLines(logging.Handler):
    """Hands a library's records to the media plane's loggers, a few of each kind."""

    def __init__(self, limiter: LogLimiter) -> None:
        super().__init__(logging.NOTSET)
        self._limiter = limiter

    def emit(self, record: logging.LogRecord) -> None:
        target = logging.getLogger(_PREFIX + record.name)
        if not target.isEnabledFor(record.levelno):
            return
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        left_out = self._limiter.allow((record.name, record.levelno, template[:200]))
        if left_out is None:
            return
        if left_out:
            target.log(record.levelno, "%d more lines like the next one were left out", left_out)
        forwarded = logging.makeLogRecord(record.__dict__)
        forwarded.name = target.name
        target.handle(forwarded)


def route_library_logs(level: int = logging.WARNING, limiter: LogLimiter | None = None) -> None:
    """Send aiortc's and aioice's records to the server's log, rate-limited (idempotent).

    A library logger whose level nobody set gets ``level``: their INFO lines are
    per ICE check and their DEBUG lines per packet.
    """
    handler = _LibraryLines(limiter or LogLimiter())
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if any(isinstance(h, _LibraryLines) for h in library.handlers):
            continue
        if library.level == logging.NOTSET:
            library.setLevel(level)
        library.addHandler(handler)
        library.propagate = False
