"""Typed events a bot receives, one class per thing that happens to it.

Each wraps the wire message it came from (``.message``), so nothing the
server said is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meetwarden import protocol as wire

from .errors import ProtocolError

__all__ = [
    "Admitted",
    "BackToWaitingRoom",
    "ChatReceived",
    "Denied",
    "ErrorReceived",
    "Event",
    "FileShared",
    "GrantReceived",
    "HandRaised",
    "MeetingChanged",
    "MeetingEnded",
    "Muted",
    "NoticeReceived",
    "PolicyChanged",
    "Removed",
    "RosterChanged",
    "SelfChanged",
    "Unmuted",
    "Waiting",
    "WaitingListChanged",
    "event_for",
]


@dataclass(frozen=True)
class Event:
    """Every event; ``message`` is the wire message it came from (meetwarden.protocol)."""

    message: Any


@dataclass(frozen=True)
class Waiting(Event):
    """In the waiting room: the host will let you in."""


@dataclass(frozen=True)
class Admitted(Event):
    """In the meeting; ``message.roster`` and ``message.you`` hold the state."""


@dataclass(frozen=True)
class Denied(Event):
    """A host denied entry (the socket closes)."""


@dataclass(frozen=True)
class Removed(Event):
    """Out of the meeting: removed, banned, sent away by the camera rule or a policy change."""


@dataclass(frozen=True)
class MeetingEnded(Event):
    """A host ended the meeting (the socket closes)."""


@dataclass(frozen=True)
class BackToWaitingRoom(Event):
    """Sent back to the waiting room (the camera rule, say): ``message.reason`` says why."""


@dataclass(frozen=True)
class RosterChanged(Event):
    """Who is in the meeting changed: ``message.entries`` (each new or changed person's
    whole entry) and ``message.removed`` (ids); ``roster`` is everyone after it."""

    roster: list[wire.RosterEntry] = field(default_factory=list)


@dataclass(frozen=True)
class WaitingListChanged(Event):
    """For hosts: who is waiting changed; ``waiting`` is everyone waiting after it
    (``message`` is the whole list once, then each change: entries and removed ids)."""

    waiting: list[wire.WaitingEntry] = field(default_factory=list)


@dataclass(frozen=True)
class SelfChanged(Event):
    """Your own state changed (mute, permission to unmute, hand, grants, role)."""


@dataclass(frozen=True)
class Muted(Event):
    """You were muted (by yourself or a host)."""


@dataclass(frozen=True)
class Unmuted(Event):
    """You were unmuted (after ``request_unmute`` was allowed)."""


@dataclass(frozen=True)
class HandRaised(Event):
    """For hosts: someone raised a hand (``message.about``)."""


@dataclass(frozen=True)
class GrantReceived(Event):
    """A host let you share: ``message.kind`` (screen or file); ``message.text``, for how long."""


@dataclass(frozen=True)
class ChatReceived(Event):
    """A chat message: ``message.sender``, ``sender_name``, ``text``, ``to`` (None: everyone)."""


@dataclass(frozen=True)
class NoticeReceived(Event):
    """Anything else the server tells you (``message.topic``, ``message.text``)."""


@dataclass(frozen=True)
class MeetingChanged(Event):
    """Lock state or policy revision changed."""


@dataclass(frozen=True)
class PolicyChanged(Event):
    """For hosts: the policy in force."""


@dataclass(frozen=True)
class FileShared(Event):
    """Someone shared a file the policy let through; ``message.file_id`` downloads it."""


@dataclass(frozen=True)
class ErrorReceived(Event):
    """An error the server sent unasked: ``media_failed`` when a media connection gave up
    (``error.params["direction"]``: ``publish`` or ``subscribe``; ``["failure"]``: why).
    Publishing again, or reconnecting, starts a new connection."""

    @property
    def error(self) -> ProtocolError:
        """The error as the SDK raises it: ``.reason``, ``.params``, and its sentence."""
        return ProtocolError(self.message.code, self.message.message, self.message.params)


def event_for(
    message: Any,
    previous_self: wire.SelfState | None,
    roster: list[wire.RosterEntry],
    waiting: list[wire.WaitingEntry],
) -> list[Event]:
    """The typed events one server message means (``roster`` and ``waiting``: the lists
    after it)."""
    match message:
        case wire.Waiting():
            return [Waiting(message)]
        case wire.Admitted():
            return [Admitted(message)]
        case wire.Dismissed(why=why):
            if why == "denied":
                return [Denied(message)]
            if why == "ended":
                return [MeetingEnded(message)]
            return [Removed(message)]
        case wire.BackToWaitingRoom():
            return [BackToWaitingRoom(message)]
        case wire.RosterUpdate():
            return [RosterChanged(message, roster)]
        case wire.WaitingList() | wire.WaitingUpdate():
            return [WaitingListChanged(message, waiting)]
        case wire.You(you=you):
            events: list[Event] = [SelfChanged(message)]
            if previous_self is not None and you.muted != previous_self.muted:
                events.append(Muted(message) if you.muted else Unmuted(message))
            return events
        case wire.Notice(topic="hand_raised"):
            return [HandRaised(message)]
        case wire.Notice(topic="grant_received"):
            return [GrantReceived(message)]
        case wire.Notice():
            return [NoticeReceived(message)]
        case wire.ChatMessage():
            return [ChatReceived(message)]
        case wire.Meeting():
            return [MeetingChanged(message)]
        case wire.PolicyMessage():
            return [PolicyChanged(message)]
        case wire.FileShared():
            return [FileShared(message)]
        case wire.Error():
            return [ErrorReceived(message)]
        case _:
            return []
