"""The server's log: one handler on standard error, as text or JSON, each line with its meeting.

Whatever is logged while a meeting is being handled carries that meeting's id:
``in_meeting`` sets a context variable when a handler reaches a meeting's Room
(``Registry.room``), and asyncio copies the context into every task and
callback started from there (the Room's own task, its timers, its media
connections). A logging filter puts the value on each record. Only the first
8 characters are logged, as everywhere in this log: the whole id is the
meeting's link.

JSON lines come from python-json-logger, a ``logging.Formatter``: the server
keeps the standard library's loggers, and uvicorn's, aiortc's and aioice's
lines come out the same way as ours.

uvicorn's own lines name the path of each request and socket, and a meeting's
paths hold its whole id (``/ws/meetings/{id}``, ``/api/meetings/{id}/...``,
``/m/{id}``): ``Redaction`` shortens every such id to its first 8 characters
and leaves out query strings (an upload's file name, the audit log's filters),
whoever logs them. The ``websockets`` library's "connection open" line, logged
through uvicorn's logger after each ``[accepted]`` line, is left out: it says
nothing the line before it did not.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Final

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .config import LogFormat, LogLevel

__all__ = [
    "MeetingFilter",
    "Redaction",
    "configure_logging",
    "current_meeting",
    "in_meeting",
    "uvicorn_log_level",
]

_MEETING: Final = contextvars.ContextVar[str | None]("meetwarden_meeting", default=None)
SHOWN_ID_CHARACTERS: Final = 8


def in_meeting(meeting_id: str) -> None:
    """From here on, this task (and what it starts) logs as handling ``meeting_id``."""
    _MEETING.set(meeting_id[:SHOWN_ID_CHARACTERS])


def current_meeting() -> str | None:
    """The (shortened) id of the meeting being handled, if any."""
    return _MEETING.get()


class MeetingFilter(logging.Filter):
    """Puts ``meeting_id`` on every record (None outside any meeting)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.meeting_id = _MEETING.get()
        return True


_MEETING_PATH = re.compile(
    rf"(/(?:meetings|m)/[A-Za-z0-9_-]{{{SHOWN_ID_CHARACTERS}}})[A-Za-z0-9_-]+"
)
_QUERY = re.compile(r"(/[^\s?\"]*)\?[^\s\"]*")  # a path's query, not any question mark
_SAID_BEFORE: Final = frozenset({"connection open"})
"""Lines the ``websockets`` library logs through uvicorn's logger after uvicorn's own."""


def redacted(text: str) -> str:
    """``text`` with each meeting id in a path cut to its first characters and each query
    string left out (``?…``)."""
    if "/m" in text:  # every meeting path has it ("/meetings/", "/m/")
        text = _MEETING_PATH.sub(r"\1…", text)
    return _QUERY.sub(r"\1?…", text) if "?" in text else text


class Redaction(logging.Filter):
    """Shortens meeting ids in the paths a record names; drops lines said before."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in _SAID_BEFORE and not record.args:
            return False
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redacted(a) if isinstance(a, str) else a for a in args)
        elif isinstance(record.msg, str) and not args:
            record.msg = redacted(record.msg)
        return True


class _TextFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        meeting = getattr(record, "meeting_id", None)
        record.meeting_label = f" meeting={meeting}" if meeting else ""
        return super().formatMessage(record)


def _formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "{asctime}{levelname}{name}{message}{meeting_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn adds an ANSI-coloured copy of some messages.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    return _TextFormatter("%(asctime)s %(levelname)s %(name)s%(meeting_label)s | %(message)s")


_LEVELLED: Final = ("meetwarden", "alembic")
"""The loggers ``--log-level`` sets: ours (aiortc's and aioice's are routed under
meetwarden.server.media) and the migrations run at start. uvicorn's are set by
uvicorn, never below INFO (``uvicorn_log_level``). Other libraries speak from
WARNING up, or their debug lines would bury ours."""


def uvicorn_log_level(level: LogLevel) -> LogLevel:
    """uvicorn's debug lines quote WebSocket messages, a join's password among them."""
    return "info" if level == "debug" else level


def configure_logging(level: LogLevel, log_format: LogFormat) -> None:
    """One handler on the root logger: every library's records, in one format and one place."""
    # Neither format shows where a line was logged from, nor the thread or process: the
    # logging HOWTO's "Optimization" table turns gathering them off (a stack walk and
    # three lookups a record).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(MeetingFilter())
    handler.addFilter(Redaction())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(max(numeric, logging.WARNING))
    for name in _LEVELLED:
        logging.getLogger(name).setLevel(numeric)
