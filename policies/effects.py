"""What a decision asks the meeting runtime to do.

Effects are data. ``apply`` turns the state-changing ones into the next
MeetingState; the server's runtime applies all of them (state, media gates,
timers, messages) atomically, one event at a time per meeting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .events import Role, ShareKind, Source
from .model import Policy
from .state import CameraStatus, Grant, Participant

__all__ = [
    "AddParticipant",
    "Admit",
    "AllowUnmute",
    "BanIdentities",
    "CancelTimer",
    "CloseGate",
    "DeliverChat",
    "Dismiss",
    "Effect",
    "EndGrant",
    "EndMedia",
    "EndMeeting",
    "MarkPublished",
    "Notify",
    "OpenGate",
    "ParamValue",
    "Params",
    "Reattach",
    "RequireWaitingRoom",
    "SendToWaitingRoom",
    "SetCamera",
    "SetConnected",
    "SetGrant",
    "SetHand",
    "SetLocked",
    "SetMuted",
    "SetName",
    "SetPolicy",
    "SetRole",
    "ShareFile",
    "StartTimer",
    "TimerKind",
    "effect_name",
    "effect_to_json",
    "json_value",
]

ParamValue = str | int | tuple[str, ...]
"""A parameter of a sentence: a name, a number, a code (``screen``), or a list of codes."""

Params = Mapping[str, ParamValue]

TimerKind = Literal["screen_grant", "file_grant", "camera_check", "camera_grace", "reconnect"]
Audience = Literal["participant", "hosts", "everyone"]


@dataclass(frozen=True, slots=True)
class AddParticipant:
    """Someone joins: into the waiting room, or straight into the meeting."""

    participant: Participant


@dataclass(frozen=True, slots=True)
class Admit:
    participant: str


@dataclass(frozen=True, slots=True)
class SendToWaitingRoom:
    """Back to the waiting room: every gate closes and grants end."""

    participant: str


@dataclass(frozen=True, slots=True)
class Dismiss:
    """The participant leaves the meeting (denied, removed, left, ended): media ends at once."""

    participant: str
    why: Literal["denied", "removed", "banned", "left", "camera", "policy", "ended"]


@dataclass(frozen=True, slots=True)
class SetConnected:
    """The participant's connection is gone (it keeps its place for a while) or back."""

    participant: str
    connected: bool


@dataclass(frozen=True, slots=True)
class Reattach:
    """The participant's new connection takes over: it is told its current state (waiting
    or admitted, role, mute, grants), never what it had when it first came in."""

    participant: str


@dataclass(frozen=True, slots=True)
class EndMedia:
    """The participant's media connections end at once; it publishes and subscribes
    again when it may (after resuming, say). Gates closed before stay closed."""

    participant: str


@dataclass(frozen=True, slots=True)
class BanIdentities:
    identities: frozenset[str]


@dataclass(frozen=True, slots=True)
class RequireWaitingRoom:
    identities: frozenset[str]


@dataclass(frozen=True, slots=True)
class SetMuted:
    participant: str
    muted: bool


@dataclass(frozen=True, slots=True)
class AllowUnmute:
    participant: str
    allowed: bool


@dataclass(frozen=True, slots=True)
class SetHand:
    participant: str
    raised: bool


@dataclass(frozen=True, slots=True)
class OpenGate:
    """Forward this track. For video the media plane resumes on a keyframe."""

    participant: str
    source: Source


@dataclass(frozen=True, slots=True)
class CloseGate:
    """Stop forwarding this track with the very next packet."""

    participant: str
    source: Source


@dataclass(frozen=True, slots=True)
class MarkPublished:
    participant: str
    source: Source
    published: bool


@dataclass(frozen=True, slots=True)
class SetGrant:
    participant: str
    grant: Grant


@dataclass(frozen=True, slots=True)
class EndGrant:
    participant: str
    kind: ShareKind


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver the matching event at ``fire_at`` (see ``timers.timer_event``)."""

    kind: TimerKind
    participant: str
    fire_at: float
    token: int = 0
    """The grant id for grant timers, so a stale timer is recognised."""


@dataclass(frozen=True, slots=True)
class CancelTimer:
    kind: TimerKind
    participant: str


@dataclass(frozen=True, slots=True)
class SetRole:
    participant: str
    role: Role


@dataclass(frozen=True, slots=True)
class SetName:
    participant: str
    name: str


@dataclass(frozen=True, slots=True)
class SetLocked:
    locked: bool


@dataclass(frozen=True, slots=True)
class SetPolicy:
    policy: Policy


@dataclass(frozen=True, slots=True)
class SetCamera:
    participant: str
    status: CameraStatus


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell someone what happened. ``topic`` is a stable code the clients switch on; the
    sentence is written at the edge, in the reader's language, from the topic and
    ``params`` (a notice whose topic is a reason code reads as that reason)."""

    audience: Audience
    topic: str
    participant: str | None = None
    """Who it is about; for audience 'participant', who receives it."""
    kind: ShareKind | None = None
    """For notices about sharing and grants: screen or file."""
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliverChat:
    sender: str
    to: str | None


@dataclass(frozen=True, slots=True)
class ShareFile:
    """Offer an accepted file to the others in the meeting."""

    participant: str
    file_id: str


@dataclass(frozen=True, slots=True)
class EndMeeting:
    pass


Effect = (
    AddParticipant
    | Admit
    | SendToWaitingRoom
    | Dismiss
    | SetConnected
    | Reattach
    | EndMedia
    | BanIdentities
    | RequireWaitingRoom
    | SetMuted
    | AllowUnmute
    | SetHand
    | OpenGate
    | CloseGate
    | MarkPublished
    | SetGrant
    | EndGrant
    | StartTimer
    | CancelTimer
    | SetRole
    | SetName
    | SetLocked
    | SetPolicy
    | SetCamera
    | Notify
    | DeliverChat
    | ShareFile
    | EndMeeting
)

_NAMES: dict[type, str] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types that are their own JSON (what most values of an effect are): answered first."""


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return names


def json_value(value: Any) -> Any:
    """A value of an effect or of the state as JSON: sets sorted, dataclasses as objects."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {key: json_value(v) for key, v in value.items()}
    if isinstance(value, Policy):
        return {"name": value.name}
    if hasattr(value, "__dataclass_fields__"):
        return {name: json_value(getattr(value, name)) for name in _field_names(type(value))}
    return value


def effect_name(kind: type) -> str:
    """The name an effect has in JSON: ``OpenGate`` is ``open_gate``."""
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = _snake(kind.__name__)
    return name


def effect_to_json(effect: Effect) -> dict[str, Any]:
    """A JSON-ready dict: ``{"effect": "open_gate", "participant": ..., "source": ...}``."""
    kind = type(effect)
    body: dict[str, Any] = {"effect": _NAMES.get(kind) or effect_name(kind)}
    if isinstance(effect, AddParticipant):
        person = effect.participant
        body.update(participant=person.id, name=person.name, role=person.role, status=person.status)
        return body
    for name in _FIELDS.get(kind) or _field_names(kind):
        value = getattr(effect, name)  # most are their own JSON: answered without a call
        body[name] = value if type(value) in _PLAIN else json_value(value)
    return body
