"""Timers the engine asks for, and the events they become when they fire."""

from __future__ import annotations

from .effects import StartTimer
from .events import CameraCheckDue, CameraGraceExpired, Event, GrantExpired, ReconnectExpired

__all__ = ["timer_event"]


def timer_event(timer: StartTimer, at: float | None = None) -> Event:
    """The event the runtime delivers when ``timer`` fires (at its fire time by default)."""
    when = timer.fire_at if at is None else at
    if timer.kind == "screen_grant":
        return GrantExpired(
            participant=timer.participant, kind="screen", grant_id=timer.token, at=when
        )
    if timer.kind == "file_grant":
        return GrantExpired(
            participant=timer.participant, kind="file", grant_id=timer.token, at=when
        )
    if timer.kind == "camera_check":
        return CameraCheckDue(participant=timer.participant, at=when)
    if timer.kind == "reconnect":
        return ReconnectExpired(participant=timer.participant, at=when)
    return CameraGraceExpired(participant=timer.participant, at=when)
