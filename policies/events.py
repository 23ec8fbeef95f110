"""Every participant event the engine decides, as frozen, strict models.

Events are facts: who did what, and when (``at``, seconds on the meeting's
clock). Slow or secret work happens before an event is made, in the server,
and arrives here as a fact (``password_ok``, ``scan_result``, ``fps``).
Identity and role come from the server-side session, never from a client's
message. Each event has a ``type`` so a JSON Lines file of events can be
replayed by ``meetwarden policy simulate``.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from meetwarden.protocol.vocabulary import Role, ShareKind, Source, Surface

from .model import Policy

__all__ = [
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "AdmitAllRequested",
    "AdmitRequested",
    "AskToUnmuteRequested",
    "BanRequested",
    "CameraCheckDue",
    "CameraFramesSeen",
    "CameraGraceExpired",
    "CameraLost",
    "CameraRestored",
    "ChatSent",
    "DenyRequested",
    "Disconnected",
    "EndMeetingRequested",
    "Event",
    "FileDownloadRequested",
    "FileOffered",
    "FileUploadRequested",
    "GrantExpired",
    "GrantRequested",
    "HandLowered",
    "HandRaised",
    "JoinRequested",
    "Left",
    "LockRequested",
    "MuteAllRequested",
    "MuteRequested",
    "PolicyUpdateRequested",
    "PublishRequested",
    "PublishStopped",
    "ReconnectExpired",
    "RemoveRequested",
    "RenameRequested",
    "Resumed",
    "RevokeRequested",
    "Role",
    "RoleChangeRequested",
    "SelfMuted",
    "ShareConfirmed",
    "ShareKind",
    "ShareRequested",
    "Source",
    "UnmuteRequested",
    "parse_event",
]

Id = Annotated[str, Field(min_length=1, max_length=128)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Event(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    at: Seconds = 0.0


class _ByParticipant(_Event):
    participant: Id


class _ByHost(_Event):
    actor: Id
    """The host or co-host who acted (a participant id)."""


class _ByHostOnParticipant(_ByHost):
    participant: Id


# --- entry -------------------------------------------------------------------


class JoinRequested(_ByParticipant):
    """Someone asks to join. Role, invite and password result come from the server."""

    type: Literal["join_requested"] = "join_requested"
    name: Annotated[str, Field(max_length=4096)]
    role: Role = "participant"
    invited: bool = False
    invite: Id | None = None
    """The id of the invite presented (the server checked it); with ``entry.identity:
    invited`` it is who the person is: one person at a time, and what bans hold against."""
    password_ok: bool | None = None
    """None: no password given; False: wrong; True: right."""
    identities: tuple[Annotated[str, Field(max_length=256)], ...] = ()
    """Stable keys for this person (device, invite, name skeleton) that bans match."""
    source: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """The network the person joins from, as an opaque key (the server's keyed hash of
    an IPv4 /24 or IPv6 /64); ``entry.waiting_room.max_share_per_source`` counts it."""
    readmit: bool = False
    """Recorded by servers before resuming became its own event (``resumed``); it grants
    nothing and is kept so that older audit exports still replay."""


class Left(_ByParticipant):
    """A participant left (a goodbye, or the time to resume ran out)."""

    type: Literal["left"] = "left"


class Disconnected(_ByParticipant):
    """The participant's connection dropped without a goodbye; it may resume for a while."""

    type: Literal["disconnected"] = "disconnected"


class Resumed(_ByParticipant):
    """The participant came back on a new connection with its current, single-use resume
    token (the server checked the token; the engine decides what the person gets back)."""

    type: Literal["resumed"] = "resumed"


class ReconnectExpired(_ByParticipant):
    """``reconnect_seconds`` after a dropped connection: the place is given up."""

    type: Literal["reconnect_expired"] = "reconnect_expired"


class AdmitRequested(_ByHostOnParticipant):
    type: Literal["admit"] = "admit"


class AdmitAllRequested(_ByHost):
    type: Literal["admit_all"] = "admit_all"


class DenyRequested(_ByHostOnParticipant):
    type: Literal["deny"] = "deny"


class RemoveRequested(_ByHostOnParticipant):
    type: Literal["remove"] = "remove"


class BanRequested(_ByHostOnParticipant):
    type: Literal["ban"] = "ban"


class LockRequested(_ByHost):
    type: Literal["lock"] = "lock"
    locked: bool


class RoleChangeRequested(_ByHostOnParticipant):
    """Promote to co-host, or back to participant."""

    type: Literal["set_role"] = "set_role"
    role: Literal["cohost", "participant"]


class EndMeetingRequested(_ByHost):
    type: Literal["end_meeting"] = "end_meeting"


class PolicyUpdateRequested(_ByHost):
    """The host replaces the policy mid-meeting; it applies to everyone inside or waiting."""

    type: Literal["policy_update"] = "policy_update"
    policy: Policy


class RenameRequested(_ByParticipant):
    type: Literal["rename"] = "rename"
    name: Annotated[str, Field(max_length=4096)]


# --- audio -------------------------------------------------------------------


class HandRaised(_ByParticipant):
    type: Literal["hand_raised"] = "hand_raised"


class HandLowered(_ByParticipant):
    """A hand goes down; ``actor`` is set when a host lowers someone else's hand."""

    type: Literal["hand_lowered"] = "hand_lowered"
    actor: Id | None = None


class UnmuteRequested(_ByParticipant):
    type: Literal["unmute_requested"] = "unmute_requested"


class SelfMuted(_ByParticipant):
    type: Literal["self_muted"] = "self_muted"


class MuteRequested(_ByHostOnParticipant):
    type: Literal["mute"] = "mute"


class MuteAllRequested(_ByHost):
    type: Literal["mute_all"] = "mute_all"


class AskToUnmuteRequested(_ByHostOnParticipant):
    """The host lets a participant speak: it may unmute now (never unmuted by force)."""

    type: Literal["ask_to_unmute"] = "ask_to_unmute"


# --- media and sharing -------------------------------------------------------


class PublishRequested(_ByParticipant):
    """A participant's track of this source reached the server and asks to be forwarded."""

    type: Literal["publish_requested"] = "publish_requested"
    source: Source
    surface: Surface | None = None
    """For a screen: what the browser says it captures; None counts as a whole monitor."""


class PublishStopped(_ByParticipant):
    """A published track ended; for a screen this is the share stopping."""

    type: Literal["publish_stopped"] = "publish_stopped"
    source: Source
    by: Literal["participant", "media"] = "participant"
    """``participant``: it asked (stop_share, stop_publish); ``media``: the server saw the
    track go (a renegotiation without it, its connection lost), which may come after a
    host ended that share and granted a new one."""


class ShareRequested(_ByParticipant):
    """A participant asks to share (which asks the host for a grant where one is needed)."""

    type: Literal["share_requested"] = "share_requested"
    kind: ShareKind


class ShareConfirmed(_ByParticipant):
    """The sharer saw a preview of exactly what its published screen shows, and confirms
    it: only now may the screen's gate open (a screen published and not confirmed is
    never forwarded)."""

    type: Literal["share_confirmed"] = "share_confirmed"


class GrantRequested(_ByHostOnParticipant):
    type: Literal["grant"] = "grant"
    kind: ShareKind
    minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    """None: the policy's grant_minutes."""
    seconds: Annotated[int, Field(ge=5, le=86400)] | None = None
    """A grant shorter than a minute, or to the second; takes precedence over minutes."""


class RevokeRequested(_ByHostOnParticipant):
    type: Literal["revoke"] = "revoke"
    kind: ShareKind


class GrantExpired(_ByParticipant):
    """The runtime's timer for a grant fired."""

    type: Literal["grant_expired"] = "grant_expired"
    kind: ShareKind
    grant_id: Annotated[int, Field(ge=0)]


class FileUploadRequested(_ByParticipant):
    """A participant is about to upload a file of the size it declares."""

    type: Literal["file_upload_requested"] = "file_upload_requested"
    declared_size: Annotated[int, Field(ge=0)] | None = None


class FileOffered(_ByParticipant):
    """An uploaded file, with what the server found in its content."""

    type: Literal["file_offered"] = "file_offered"
    file_id: Id
    name: Annotated[str, Field(max_length=1024)] = ""
    size: Annotated[int, Field(ge=0)]
    sniffed_type: Annotated[str, Field(max_length=255)]
    declared_type: Annotated[str, Field(max_length=255)] | None = None
    content_mismatch: bool = False
    """The content disagrees with the file's name or declared type."""
    executable: bool = False
    """The content is an executable or a script, whatever it is named."""
    scan_result: Literal["clean", "infected", "unavailable"] | None = None
    """None: not scanned."""


class FileDownloadRequested(_ByParticipant):
    """A participant asks to download a file shared in this meeting."""

    type: Literal["file_download_requested"] = "file_download_requested"
    file_id: Id


class ChatSent(_ByParticipant):
    type: Literal["chat"] = "chat"
    to: Id | None = None
    """A private message's recipient; None for everyone."""


# --- observations from the media plane and timers ----------------------------


class CameraFramesSeen(_ByParticipant):
    type: Literal["camera_frames"] = "camera_frames"
    fps: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class CameraLost(_ByParticipant):
    type: Literal["camera_lost"] = "camera_lost"
    cause: Literal["stopped", "frozen", "black"] = "stopped"


class CameraRestored(_ByParticipant):
    type: Literal["camera_restored"] = "camera_restored"


class CameraCheckDue(_ByParticipant):
    """check_seconds after admission: has working video arrived?"""

    type: Literal["camera_check_due"] = "camera_check_due"


class CameraGraceExpired(_ByParticipant):
    """lost_grace_seconds after a camera was lost."""

    type: Literal["camera_grace_expired"] = "camera_grace_expired"


Event = Annotated[
    JoinRequested
    | Left
    | Disconnected
    | Resumed
    | ReconnectExpired
    | AdmitRequested
    | AdmitAllRequested
    | DenyRequested
    | RemoveRequested
    | BanRequested
    | LockRequested
    | RoleChangeRequested
    | EndMeetingRequested
    | PolicyUpdateRequested
    | RenameRequested
    | HandRaised
    | HandLowered
    | UnmuteRequested
    | SelfMuted
    | MuteRequested
    | MuteAllRequested
    | AskToUnmuteRequested
    | PublishRequested
    | PublishStopped
    | ShareRequested
    | ShareConfirmed
    | GrantRequested
    | RevokeRequested
    | GrantExpired
    | FileUploadRequested
    | FileOffered
    | FileDownloadRequested
    | ChatSent
    | CameraFramesSeen
    | CameraLost
    | CameraRestored
    | CameraCheckDue
    | CameraGraceExpired,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: frozenset[str] = frozenset(
    member.model_fields["type"].default for member in get_args(get_args(Event)[0])
)
"""Every event ``type`` the engine decides."""


def parse_event(text: str | bytes) -> Event:
    """Parses one JSON event (for replays and case files); raises pydantic's ValidationError."""
    return EVENT_ADAPTER.validate_json(text)
