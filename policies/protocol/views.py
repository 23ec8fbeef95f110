"""What people see of a meeting: the roster, the waiting list, their own state and the
meeting's, each as the server sends it (whole once, then as changes where a list grows
with the meeting).
"""

from __future__ import annotations

from typing import Literal

from .vocabulary import Role, ShareKind, Source, WireModel

__all__ = [
    "GrantInfo",
    "Meeting",
    "MeetingInfo",
    "RosterEntry",
    "RosterUpdate",
    "SelfState",
    "WaitingEntry",
    "WaitingList",
    "WaitingUpdate",
    "You",
]


class GrantInfo(WireModel):
    kind: ShareKind
    expires_at: float
    """Unix time (seconds) when the grant ends."""


class SelfState(WireModel):
    participant_id: str
    name: str
    role: Role
    muted: bool
    may_unmute: bool
    """The unmute rule lets this participant unmute now."""
    hand_raised: bool
    grants: list[GrantInfo] = []
    publishing: list[Source] = []
    """Sources whose media is forwarded right now."""
    camera: str = "not_required"


class RosterEntry(WireModel):
    id: str
    name: str
    role: Role
    muted: bool
    hand_raised: bool
    publishing: list[Source] = []
    connected: bool = True
    """False while this person's connection is gone and their place is kept."""
    grants: list[ShareKind] = []
    """What a host let this person share (screen, file) right now: a host's console
    offers to revoke only what was granted."""


class WaitingEntry(WireModel):
    id: str
    name: str
    waiting_since: float
    """Unix time."""
    connected: bool = True
    reason: str = "waiting_for_host"
    """Why this person waits: ``waiting_for_host`` for a newcomer, else the reason code of
    the decision that sent them back (``camera_missing``, ``camera_still_lost``...)."""
    rule: str = ""
    """The rule (JSON pointer) of that decision; empty for a newcomer."""


class MeetingInfo(WireModel):
    meeting_id: str
    name: str
    locked: bool
    policy_revision: int


class RosterUpdate(WireModel):
    """What changed in the roster since ``admitted`` (which carries all of it) and the
    updates before: each entry is a person's whole new entry, to put in place of theirs
    or, for someone new, at the end; ``removed`` are the ids of people who left it.
    Sent to everyone admitted, as a decision changes it: changes, never the whole list,
    so what a join costs does not grow with the meeting."""

    type: Literal["roster_update"] = "roster_update"
    entries: list[RosterEntry] = []
    removed: list[str] = []


class WaitingList(WireModel):
    """For hosts and co-hosts only: the whole waiting list, once they are in (or are made a
    co-host); ``waiting_update`` messages follow it."""

    type: Literal["waiting_list"] = "waiting_list"
    waiting: list[WaitingEntry]


class WaitingUpdate(WireModel):
    """For hosts and co-hosts only: what changed in the waiting list, as ``roster_update``
    for the roster (entries in place of theirs or at the end; ids that left it)."""

    type: Literal["waiting_update"] = "waiting_update"
    entries: list[WaitingEntry] = []
    removed: list[str] = []


class You(WireModel):
    type: Literal["you"] = "you"
    you: SelfState


class Meeting(WireModel):
    type: Literal["meeting"] = "meeting"
    meeting: MeetingInfo
