"""What people are told: the views of the meeting each one may see, notices, chat.

A waiting participant hears only about themselves (their own state, waiting);
everything about the meeting goes to the people admitted, and the waiting list
and policy to its hosts. A broadcast is encoded once for all its readers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from meetwarden import protocol as wire
from meetwarden.policies import effects as fx
from meetwarden.policies.model import Policy
from meetwarden.policies.state import MeetingState

from ..i18n import Language, notice_text
from .decided import Decided, wire_params
from .session import Session
from .view_changes import view_changes
from .views import meeting_info, meeting_key, waiting_list

if TYPE_CHECKING:
    from .room import Room

__all__ = [
    "admitted_sessions",
    "broadcast",
    "broadcast_text",
    "broadcast_written",
    "deliver_chat",
    "host_sessions",
    "notify",
    "notify_hosts",
    "send_view_changes",
]

# Notices the views already convey (roster, waiting list, meeting info, own state).
_VIEW_TOPICS = frozenset(
    {
        "roster_changed",
        "audio_changed",
        "hand_changed",
        "waiting_room_changed",
        "policy_changed",
        "lock_changed",
        "admitted",
    }
)


def broadcast(sessions: list[Session], message: Any) -> None:
    if sessions:
        broadcast_text(sessions, wire.encode(message))  # encoded once for every reader


def broadcast_text(sessions: list[Session], text: str) -> None:
    """An encoded message, to each of ``sessions``."""
    for session in sessions:
        session.send_text(text)


def broadcast_written(sessions: list[Session], message: Callable[[Language], Any]) -> None:
    """A message with sentences in it: written and encoded once per language read."""
    by_language: dict[Language, list[Session]] = {}
    for session in sessions:
        by_language.setdefault(session.language, []).append(session)
    for language, readers in by_language.items():
        broadcast(readers, message(language))


def admitted_sessions(room: Room) -> list[Session]:
    state = room.state
    return [
        session
        for pid, session in room.sessions.items()
        if (person := state.get(pid)) is not None and person.admitted
    ]


def host_sessions(room: Room) -> list[Session]:
    """The sessions of the admitted hosts and co-hosts (from the state's list of them,
    not a pass over every session: the hosts hear of each knock)."""
    sessions = room.sessions
    return [
        session
        for person in room.state.hosts()
        if person.admitted and (session := sessions.get(person.id)) is not None
    ]


def notify_hosts(room: Room, topic: str, params: fx.Params | None = None) -> None:
    """A notice of the server's own (not a decision's) to the hosts and co-hosts."""
    given = params or {}

    def written(language: Language) -> wire.Notice:
        text = notice_text(topic, "hosts", None, given, language)
        return wire.Notice(topic=topic, text=text, params=wire_params(given))

    broadcast_written(host_sessions(room), written)


def notify(room: Room, notice: fx.Notify, decided: Decided) -> None:
    if notice.topic in _VIEW_TOPICS:
        return

    def written(language: Language) -> wire.Notice:
        return wire.Notice(
            topic=notice.topic,
            text=notice_text(notice.topic, notice.audience, notice.kind, notice.params, language),
            params=wire_params(notice.params),
            about=notice.participant,
            kind=notice.kind,
            decision_id=decided.decision_id,
        )

    if notice.audience == "participant":
        session = room.sessions.get(notice.participant or "")
        if session is not None:
            session.send(written(session.language))
        return
    hosts = notice.audience == "hosts"
    broadcast_written(host_sessions(room) if hosts else admitted_sessions(room), written)


def deliver_chat(room: Room, sender: str, to: str | None, text: str) -> None:
    person = room.state.get(sender)
    if person is None:
        return
    message = wire.ChatMessage(
        sender=sender, sender_name=person.name, text=text, to=to, at=time.time()
    )
    if to is None:
        broadcast(admitted_sessions(room), message)
        return
    for pid in {sender, to}:
        session = room.sessions.get(pid)
        if session is not None:
            session.send(message)


def send_view_changes(
    room: Room,
    before: tuple[Policy, MeetingState, int],
    decided: Decided,
    among: Sequence[str] | None = None,
) -> None:
    """Sends what ``decided`` changed in each view, to the people who see it. Worked out
    here, after the effects went out: nothing is computed ahead of a gate closing, and
    nothing at all when the decision changed no state (most refusals). ``among``: the
    only people the decision may have changed (``policies.apply.touched_by``)."""
    policy, state, revision = before
    if policy is room.policy and state is room.state and revision == room.revision:
        return  # ``apply`` hands back the very same state when nothing changed
    changes = view_changes((policy, state), (room.policy, room.state), room.wall, among)
    if changes.roster or changes.waiting:
        # Gathered and sent a few times a second at most (view_batches.py).
        room.view_batches.changed(changes.roster, changes.waiting)
    if changes.new_hosts:
        whole = wire.WaitingList(waiting=waiting_list(room.state, room.wall))
        for pid in changes.new_hosts:
            session = room.sessions.get(pid)
            if session is not None:
                session.send(whole)
    # The admitted readers are listed (a pass over everyone) only when it changed.
    if meeting_key(policy, state, revision) != meeting_key(room.policy, room.state, room.revision):
        meeting = meeting_info(room.meeting_id, room.policy, room.state, room.revision)
        broadcast(admitted_sessions(room), wire.Meeting(meeting=meeting))
    for pid, mine in changes.selves.items():
        session = room.sessions.get(pid)
        if session is not None:
            session.send(wire.You(you=mine))
