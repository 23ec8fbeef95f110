"""The WebSocket wire protocol: every message, defined once.

The server and the SDK both import this module; it imports nothing but
pydantic. One participant has one socket at ``/ws/meetings/{meeting_id}``;
every message is one JSON object with a ``type``.

The first client message is ``join``. Requests may carry an ``id``; every
request that reaches the policy engine gets a ``result`` with the same
``ref``: allowed or refused, the reason code, the rule pointer and a
sentence (see docs/policy.md for the codes). A message the server cannot
take gets an ``error`` with a stable ``code`` instead. Identity and role come
from the server-side session only: no message carries who sent it.

Media (WebRTC, non-trickle: gather ICE candidates before sending an SDP):
an admitted participant sends ``publish`` with its offer and, for each m-line,
the source it carries (microphone, camera, screen, screen_audio; the server
fixes it at this negotiation and refuses a later relabelling); the server
answers ``publish_answer`` with the policy's decision per new source. To add or
drop a track, send ``publish`` again with the whole list. ``stop_publish`` ends
a source (for a screen, the share and, by default, its grant). ``subscribe``
asks for the others' media: the server sends ``subscribe_offer`` (now, and
again whenever tracks come and go) and the client replies ``subscribe_answer``.
Nothing is forwarded to or from anyone who is not admitted.

Files go over HTTP, never over this socket or peer to peer: ``file_token``
returns a short-lived token bound to this connection (``file_token``), which
the file endpoints take as ``Authorization: Bearer``; a file the policy lets
through reaches everyone admitted as ``file_shared``.

A join that fails because the meeting does not exist, or because the password
is missing or wrong, gets the same vague ``join_refused`` (reason
``join_failed``): the outside never learns which check failed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "CLIENT_ADAPTER",
    "CLOSE_INVALID_DATA",
    "CLOSE_JOIN_REFUSED",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_REPLACED",
    "CLOSE_TOO_BIG",
    "CLOSE_UNSUPPORTED",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "SERVER_ADAPTER",
    "ClientMessage",
    "ServerMessage",
    "encode",
]

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
"""Largest message either side sends; the server closes with CLOSE_TOO_BIG above it."""

# WebSocket close codes (RFC 6455 section 7.4; 4000-4999 are ours).
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED = 1003  # a binary frame on this text protocol
CLOSE_INVALID_DATA = 1007  # too many malformed messages
CLOSE_POLICY = 1008  # flood, no join in time, too slow to read
CLOSE_TOO_BIG = 1009
CLOSE_JOIN_REFUSED = 4003  # after join_refused
CLOSE_REPLACED = 4009  # the same host signed in elsewhere

Source = Literal["microphone", "camera", "screen", "screen_audio"]
ShareKind = Literal["screen", "file"]
Surface = Literal["window", "browser", "monitor"]
Role = Literal["host", "cohost", "participant"]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Token = Annotated[str, Field(min_length=1, max_length=4096)]
Name = Annotated[str, Field(max_length=1024)]


class _Message(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _Request(_Message):
    id: Annotated[int, Field(ge=0, le=2**53)] | None = None
    """Chosen by the client; echoed as ``ref`` on the reply."""


# --- client to server: joining and leaving -----------------------------------


class Join(_Request):
    type: Literal["join"] = "join"
    name: Name
    password: Annotated[str, Field(max_length=256)] | None = None
    invite: Token | None = None
    host_token: Token | None = None
    device_token: Token | None = None
    """Returned in ``welcome``; presenting it again identifies this device (bans hold)."""
    resume_token: Token | None = None
    """From ``admitted``: rejoin after a dropped connection without waiting again."""


class Leave(_Request):
    type: Literal["leave"] = "leave"


# --- client to server: participant actions -----------------------------------


class RaiseHand(_Request):
    type: Literal["raise_hand"] = "raise_hand"


class LowerHand(_Request):
    """Lower one's own hand, or (hosts) someone else's."""

    type: Literal["lower_hand"] = "lower_hand"
    participant: Id | None = None


class RequestUnmute(_Request):
    type: Literal["request_unmute"] = "request_unmute"


class MuteSelf(_Request):
    type: Literal["mute_self"] = "mute_self"


class RequestShare(_Request):
    type: Literal["request_share"] = "request_share"
    kind: ShareKind


class Chat(_Request):
    type: Literal["chat"] = "chat"
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    to: Id | None = None


class Rename(_Request):
    type: Literal["rename"] = "rename"
    name: Name


class RequestFileToken(_Request):
    """Ask for a short-lived token for this meeting's file endpoints (answered by
    ``file_token``). It says who you are on this connection, never what you may do:
    every upload and download is checked live against the policy and your admission."""

    type: Literal["file_token"] = "file_token"


# --- client to server: host actions ------------------------------------------


class _OnParticipant(_Request):
    participant: Id


class Admit(_OnParticipant):
    type: Literal["admit"] = "admit"


class Deny(_OnParticipant):
    type: Literal["deny"] = "deny"


class AdmitAll(_Request):
    type: Literal["admit_all"] = "admit_all"


class Remove(_OnParticipant):
    type: Literal["remove"] = "remove"


class Ban(_OnParticipant):
    type: Literal["ban"] = "ban"


class Lock(_Request):
    type: Literal["lock"] = "lock"
    locked: bool


class Mute(_OnParticipant):
    type: Literal["mute"] = "mute"


class MuteAll(_Request):
    type: Literal["mute_all"] = "mute_all"


class AskToUnmute(_OnParticipant):
    type: Literal["ask_to_unmute"] = "ask_to_unmute"


class Grant(_OnParticipant):
    type: Literal["grant"] = "grant"
    kind: ShareKind
    minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    seconds: Annotated[int, Field(ge=5, le=86400)] | None = None
    """To the second (at least 5); takes precedence over minutes."""


class Revoke(_OnParticipant):
    type: Literal["revoke"] = "revoke"
    kind: ShareKind


class SetRole(_OnParticipant):
    type: Literal["set_role"] = "set_role"
    role: Literal["cohost", "participant"]


class UpdatePolicy(_Request):
    type: Literal["update_policy"] = "update_policy"
    policy: dict[str, Any]


class EndMeeting(_Request):
    type: Literal["end_meeting"] = "end_meeting"


# --- client to server: media signalling --------------------------------------


class TrackInfo(_Message):
    mid: Annotated[str, Field(min_length=1, max_length=32)]
    source: Source
    surface: Surface | None = None


class Publish(_Request):
    """The client's offer for its publishing connection; answered by ``publish_answer``."""

    type: Literal["publish"] = "publish"
    sdp: Annotated[str, Field(min_length=1, max_length=60_000)]
    tracks: Annotated[list[TrackInfo], Field(max_length=8)]


class Subscribe(_Request):
    """Ready to receive media: the server answers with a ``subscribe_offer`` (and sends new
    offers whenever the forwarded tracks change)."""

    type: Literal["subscribe"] = "subscribe"


class StopPublish(_Request):
    type: Literal["stop_publish"] = "stop_publish"
    source: Source


class SubscribeAnswer(_Request):
    type: Literal["subscribe_answer"] = "subscribe_answer"
    sdp: Annotated[str, Field(min_length=1, max_length=60_000)]


ClientMessage = Annotated[
    Join
    | Leave
    | RaiseHand
    | LowerHand
    | RequestUnmute
    | MuteSelf
    | RequestShare
    | Chat
    | Rename
    | RequestFileToken
    | Admit
    | Deny
    | AdmitAll
    | Remove
    | Ban
    | Lock
    | Mute
    | MuteAll
    | AskToUnmute
    | Grant
    | Revoke
    | SetRole
    | UpdatePolicy
    | EndMeeting
    | Publish
    | Subscribe
    | StopPublish
    | SubscribeAnswer,
    Field(discriminator="type"),
]
CLIENT_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


# --- server to client ----------------------------------------------------------


class GrantInfo(_Message):
    kind: ShareKind
    expires_at: float
    """Unix time (seconds) when the grant ends."""


class SelfState(_Message):
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


class RosterEntry(_Message):
    id: str
    name: str
    role: Role
    muted: bool
    hand_raised: bool
    publishing: list[Source] = []


class WaitingEntry(_Message):
    id: str
    name: str
    waiting_since: float
    """Unix time."""


class MeetingInfo(_Message):
    meeting_id: str
    name: str
    locked: bool
    policy_revision: int


class Welcome(_Message):
    """The join was taken: you are waiting or admitted (a message of that name follows)."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    participant_id: str
    role: Role
    device_token: str


class Waiting(_Message):
    type: Literal["waiting"] = "waiting"
    message: str
    reason: str = "waiting_for_host"


class Admitted(_Message):
    type: Literal["admitted"] = "admitted"
    meeting: MeetingInfo
    you: SelfState
    roster: list[RosterEntry]
    resume_token: str
    reason: str
    message: str


class JoinRefused(_Message):
    """The join failed; the socket closes with CLOSE_JOIN_REFUSED."""

    type: Literal["join_refused"] = "join_refused"
    reason: str
    rule: str
    message: str
    retry_after: float | None = None


class Dismissed(_Message):
    """You are out of the meeting (denied, removed, banned, ended...); the socket closes."""

    type: Literal["dismissed"] = "dismissed"
    why: Literal["denied", "removed", "banned", "left", "camera", "policy", "ended"]
    reason: str
    rule: str
    message: str


class BackToWaitingRoom(_Message):
    type: Literal["back_to_waiting_room"] = "back_to_waiting_room"
    reason: str
    rule: str
    message: str


class Roster(_Message):
    type: Literal["roster"] = "roster"
    participants: list[RosterEntry]


class WaitingList(_Message):
    """For hosts and co-hosts only."""

    type: Literal["waiting_list"] = "waiting_list"
    waiting: list[WaitingEntry]


class You(_Message):
    type: Literal["you"] = "you"
    you: SelfState


class Notice(_Message):
    type: Literal["notice"] = "notice"
    topic: str
    text: str = ""
    about: str | None = None
    """The participant it is about, if any."""
    kind: Literal["screen", "file"] | None = None
    """For notices about sharing and grants (grant_received, grant_revoked, grant_expired,
    grant_ended, share_requested): which kind of sharing."""


class ChatMessage(_Message):
    type: Literal["chat"] = "chat"
    sender: str
    sender_name: str
    text: str
    to: str | None = None
    at: float


class Meeting(_Message):
    type: Literal["meeting"] = "meeting"
    meeting: MeetingInfo


class PolicyMessage(_Message):
    """The policy in force, for hosts and co-hosts."""

    type: Literal["policy"] = "policy"
    revision: int
    policy: dict[str, Any]


class Result(_Message):
    """The engine's decision on a request."""

    type: Literal["result"] = "result"
    ref: int | None
    allowed: bool
    reason: str
    rule: str
    message: str
    errors: list[dict[str, str]] = []
    """For a refused policy update: each error's pointer, code and message."""


class Error(_Message):
    """A message the server could not take (it never reached the engine)."""

    type: Literal["error"] = "error"
    ref: int | None = None
    code: str
    message: str


class TrackDecision(_Message):
    """The policy's decision on forwarding one published source."""

    source: Source
    allowed: bool
    reason: str
    rule: str
    message: str


class PublishAnswer(_Message):
    """The server's answer to ``publish``, with the decision on each newly published source.

    A source that is refused is still negotiated (its media reaches the server) but
    nothing of it is forwarded; publish it again once allowed (after a grant, say).
    """

    type: Literal["publish_answer"] = "publish_answer"
    ref: int | None = None
    sdp: str
    decisions: list[TrackDecision] = []


class OfferedTrack(_Message):
    mid: str
    participant: str
    source: Source
    kind: Literal["audio", "video"]


class SubscribeOffer(_Message):
    """The server's offer for the subscribing connection: answer with ``subscribe_answer``."""

    type: Literal["subscribe_offer"] = "subscribe_offer"
    ref: int | None = None
    sdp: str
    tracks: list[OfferedTrack] = []
    """Every track in the offer: its mid, whose it is, and its source."""


class FileToken(_Message):
    """The answer to ``file_token``: send it as ``Authorization: Bearer`` to the file
    endpoints. It ends with this connection (a reconnect needs a new one) or at
    ``expires_at``, whichever comes first."""

    type: Literal["file_token"] = "file_token"
    ref: int | None = None
    token: str
    expires_at: float
    """Unix time."""
    upload_path: str
    """``POST`` the file's bytes here (``?name=`` the file name, Content-Type its type)."""


class FileShared(_Message):
    """A file the policy let through, for everyone admitted: download it from
    ``/api/meetings/{meeting_id}/files/{file_id}`` with a file token."""

    type: Literal["file_shared"] = "file_shared"
    file_id: str
    name: str
    size: int
    content_type: str
    sender: str
    sender_name: str


ServerMessage = Annotated[
    Welcome
    | Waiting
    | Admitted
    | JoinRefused
    | Dismissed
    | BackToWaitingRoom
    | Roster
    | WaitingList
    | You
    | Notice
    | ChatMessage
    | Meeting
    | PolicyMessage
    | Result
    | Error
    | PublishAnswer
    | SubscribeOffer
    | FileToken
    | FileShared,
    Field(discriminator="type"),
]
SERVER_ADAPTER: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def encode(message: BaseModel) -> str:
    """The JSON text of a message, as sent on the socket."""
    return message.model_dump_json()
