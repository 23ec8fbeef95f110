"""Client requests as engine events: identity comes from the session, never the message."""

from __future__ import annotations

from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies import events as ev

__all__ = ["event_for"]


def event_for(message: Any, me: str) -> tuple[ev.Event, dict[str, Any]] | None:
    """The event a request stands for, and context the runtime needs beside it (chat text).

    None for messages that are not engine events (join, media signalling, policy updates,
    which need validating first).
    """
    match message:
        case wire.Leave():
            return ev.Left(participant=me), {"explicit": True}  # a real goodbye: no resuming
        case wire.RaiseHand():
            return ev.HandRaised(participant=me), {}
        case wire.LowerHand(participant=target):
            if target is None or target == me:
                return ev.HandLowered(participant=me), {}
            return ev.HandLowered(participant=target, actor=me), {}
        case wire.RequestUnmute():
            return ev.UnmuteRequested(participant=me), {}
        case wire.MuteSelf():
            return ev.SelfMuted(participant=me), {}
        case wire.RequestShare(kind=kind):
            return ev.ShareRequested(participant=me, kind=kind), {}
        case wire.ConfirmShare():
            return ev.ShareConfirmed(participant=me), {}
        case wire.StopShare():  # the share ends as a stopped screen does (and its grant)
            return ev.PublishStopped(participant=me, source="screen"), {}
        case wire.Chat(text=text, to=to):
            return ev.ChatSent(participant=me, to=to), {"text": text}
        case wire.Rename(name=name):
            return ev.RenameRequested(participant=me, name=name), {}
        case wire.Admit(participant=target):
            return ev.AdmitRequested(actor=me, participant=target), {}
        case wire.Deny(participant=target):
            return ev.DenyRequested(actor=me, participant=target), {}
        case wire.AdmitAll():
            return ev.AdmitAllRequested(actor=me), {}
        case wire.Remove(participant=target):
            return ev.RemoveRequested(actor=me, participant=target), {}
        case wire.Ban(participant=target):
            return ev.BanRequested(actor=me, participant=target), {}
        case wire.Lock(locked=locked):
            return ev.LockRequested(actor=me, locked=locked), {}
        case wire.Mute(participant=target):
            return ev.MuteRequested(actor=me, participant=target), {}
        case wire.MuteAll():
            return ev.MuteAllRequested(actor=me), {}
        case wire.AskToUnmute(participant=target):
            return ev.AskToUnmuteRequested(actor=me, participant=target), {}
        case wire.Grant(participant=target, kind=kind, minutes=minutes, seconds=seconds):
            grant = ev.GrantRequested(
                actor=me, participant=target, kind=kind, minutes=minutes, seconds=seconds
            )
            return grant, {}
        case wire.Revoke(participant=target, kind=kind):
            return ev.RevokeRequested(actor=me, participant=target, kind=kind), {}
        case wire.SetRole(participant=target, role=role):
            return ev.RoleChangeRequested(actor=me, participant=target, role=role), {}
        case wire.EndMeeting():
            return ev.EndMeetingRequested(actor=me), {}
        case _:
            return None
