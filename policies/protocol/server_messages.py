"""What the server sends: welcome, admission, views of the meeting, results, media offers.

Clients read these tolerantly (``meetwarden.client_sdk`` logs and skips a type or
field it does not know), so a newer server does not break a deployed bot.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from .views import (
    GrantInfo,
    Meeting,
    MeetingInfo,
    RosterEntry,
    RosterUpdate,
    SelfState,
    WaitingEntry,
    WaitingList,
    WaitingUpdate,
    You,
)
from .vocabulary import PROTOCOL_VERSION, Params, Role, Source, WireModel

__all__ = [
    "SERVER_ADAPTER",
    "Admitted",
    "BackToWaitingRoom",
    "ChatMessage",
    "Dismissed",
    "Error",
    "FileShared",
    "FileToken",
    "GrantInfo",
    "IceServer",
    "JoinRefused",
    "Meeting",
    "MeetingInfo",
    "Moved",
    "Notice",
    "OfferedTrack",
    "PolicyMessage",
    "PublishAnswer",
    "Result",
    "RosterEntry",
    "RosterUpdate",
    "SelfState",
    "ServerMessage",
    "Speaking",
    "SubscribeOffer",
    "TrackDecision",
    "Waiting",
    "WaitingEntry",
    "WaitingList",
    "WaitingUpdate",
    "Welcome",
    "You",
]


class Welcome(WireModel):
    """The join was taken: you are waiting or admitted (a message of that name follows)."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    participant_id: str
    role: Role
    device_token: str = Field(repr=False)
    resume_token: str | None = Field(default=None, repr=False)
    """Single use: join with it to resume your place after a dropped connection (within
    the policy's ``entry.reconnect_seconds``). Every welcome brings a new one."""


class IceServer(WireModel):
    """A TURN server for your media connections, as WebRTC's RTCIceServer has it (W3C
    webrtc-pc): hand it to RTCPeerConnection's ``iceServers`` as it is. The credentials
    were made for you alone and expire (docs/operating.md, "TURN")."""

    urls: list[str]
    """``turn:host:port?transport=udp|tcp`` or ``turns:host:port?transport=tcp`` (RFC 7065)."""
    username: str
    """``<expiry unix time>:<your participant id>``."""
    credential: str = Field(repr=False)


class Waiting(WireModel):
    type: Literal["waiting"] = "waiting"
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    reason: str = "waiting_for_host"
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class Admitted(WireModel):
    type: Literal["admitted"] = "admitted"
    meeting: MeetingInfo
    you: SelfState
    roster: list[RosterEntry]
    resume_token: str = Field(repr=False)
    """The current resume token (the one the last ``welcome`` brought)."""
    reason: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""
    ice_servers: list[IceServer] = []
    """TURN servers for the media connections you open from now on, with credentials made
    for you at this admission (each ``admitted`` brings fresh ones); empty when the server
    has none. Nobody waiting or refused gets any."""
    simulcast: bool = False
    """The server takes a camera published in simulcast layers (``a=rid``/``a=simulcast``,
    at most three) and forwards each viewer the layer its ``tile_size`` needs."""


class Moved(WireModel):
    """Another node holds the meeting: join there. The socket closes with CLOSE_MOVED."""

    type: Literal["moved"] = "moved"
    server: str
    """The base URL of that node (http or https); the join goes to its /ws/meetings/ID."""


class JoinRefused(WireModel):
    """The join failed; the socket closes with CLOSE_JOIN_REFUSED."""

    type: Literal["join_refused"] = "join_refused"
    reason: str
    rule: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    retry_after: float | None = None
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class Dismissed(WireModel):
    """You are out of the meeting (denied, removed, banned, ended...); the socket closes."""

    type: Literal["dismissed"] = "dismissed"
    why: Literal["denied", "removed", "banned", "left", "camera", "policy", "ended"]
    reason: str
    rule: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class BackToWaitingRoom(WireModel):
    type: Literal["back_to_waiting_room"] = "back_to_waiting_room"
    reason: str
    rule: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class Notice(WireModel):
    type: Literal["notice"] = "notice"
    topic: str
    text: str = ""
    """The notice in the reader's language ("" for topics the views already show)."""
    params: Params = {}
    """What the sentence needs besides the topic: the same in every language."""
    about: str | None = None
    """The participant it is about, if any."""
    kind: Literal["screen", "file"] | None = None
    """For notices about sharing and grants (grant_received, grant_revoked, grant_expired,
    grant_ended, share_requested): which kind of sharing."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class ChatMessage(WireModel):
    type: Literal["chat"] = "chat"
    sender: str
    sender_name: str
    text: str
    to: str | None = None
    at: float


class PolicyMessage(WireModel):
    """The policy in force, for hosts and co-hosts."""

    type: Literal["policy"] = "policy"
    revision: int
    policy: dict[str, Any]


class Result(WireModel):
    """The engine's decision on a request."""

    type: Literal["result"] = "result"
    ref: int | None
    allowed: bool
    reason: str
    rule: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    errors: list[dict[str, Any]] = []
    """For a refused policy update: each error's pointer, code and message (in the
    reader's language), and the key and params of its sentence (the same in every one)."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class Error(WireModel):
    """A message the server could not take (it never reached the engine)."""

    type: Literal["error"] = "error"
    ref: int | None = None
    code: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""


class TrackDecision(WireModel):
    """The policy's decision on forwarding one published source."""

    source: Source
    allowed: bool
    reason: str
    rule: str
    message: str
    params: Params = {}
    """What the sentence needs besides the reason: the same in every language."""
    decision_id: str | None = None
    """The id of the decision in the meeting's audit log (the host's log shows the same)."""


class PublishAnswer(WireModel):
    """The server's answer to ``publish``, with the decision on each newly published source.

    A source that is refused is still negotiated (its media reaches the server) but
    nothing of it is forwarded; publish it again once allowed (after a grant, say).
    """

    type: Literal["publish_answer"] = "publish_answer"
    ref: int | None = None
    sdp: str
    decisions: list[TrackDecision] = []


class OfferedTrack(WireModel):
    mid: str
    participant: str
    source: Source
    kind: Literal["audio", "video"]


class SubscribeOffer(WireModel):
    """The server's offer for the subscribing connection: answer with ``subscribe_answer``."""

    type: Literal["subscribe_offer"] = "subscribe_offer"
    ref: int | None = None
    sdp: str
    tracks: list[OfferedTrack] = []
    """Every track in the offer: its mid, whose it is, and its source."""


class FileToken(WireModel):
    """The answer to ``file_token``: send it as ``Authorization: Bearer`` to the file
    endpoints. It ends with this connection (a reconnect needs a new one) or at
    ``expires_at``, whichever comes first."""

    type: Literal["file_token"] = "file_token"
    ref: int | None = None
    token: str = Field(repr=False)
    expires_at: float
    """Unix time."""
    upload_path: str
    """``POST`` the file's bytes here (``?name=`` the file name, Content-Type its type)."""
    max_bytes: int | None = None
    """The meeting's ``file_share.max_bytes`` when the token was issued: a sender of a
    body of unknown length stops there (the server refuses a larger file anyway)."""


class FileShared(WireModel):
    """A file the policy let through, for everyone admitted: download it from
    ``/api/meetings/{meeting_id}/files/{file_id}`` with a file token."""

    type: Literal["file_shared"] = "file_shared"
    file_id: str
    name: str
    size: int
    content_type: str
    sender: str
    sender_name: str


class Speaking(WireModel):
    """Who is speaking now (participant ids), decided by the server from the audio
    levels their microphones send (RFC 6464). Sent to everyone admitted when it
    changes, at most every 0.4 s; an empty list when nobody speaks. A participant
    whose microphone is muted is never in it, whatever their client sends."""

    type: Literal["speaking"] = "speaking"
    participants: list[str] = []


ServerMessage = Annotated[
    Welcome
    | Waiting
    | Admitted
    | JoinRefused
    | Moved
    | Dismissed
    | BackToWaitingRoom
    | RosterUpdate
    | WaitingList
    | WaitingUpdate
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
    | FileShared
    | Speaking,
    Field(discriminator="type"),
]
SERVER_ADAPTER: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
