"""The WebSocket wire protocol: every message, defined once.

The server and the SDK both import this package (``meetwarden.protocol``); it
imports nothing but pydantic (import-linter contracts in pyproject.toml hold it
to that). One participant has one socket at ``/ws/meetings/{meeting_id}``;
every message is one JSON object with a ``type``.

The first client message is ``join``. Requests may carry an ``id``; every
request that reaches the policy engine gets a ``result`` with the same
``ref``: allowed or refused, the reason code, the rule pointer, the
sentence's ``params`` and the sentence itself, in the language the join named
(see docs/policy.md for the codes; ``reason`` and ``params`` are the same in every
language, so a client may write its own sentence from them). A message the server cannot
take gets an ``error`` with a stable ``code`` instead. Identity and role come
from the server-side session only: no message carries who sent it.

Media (WebRTC, non-trickle: gather ICE candidates before sending an SDP):
an admitted participant sends ``publish`` with its offer and, for each m-line,
the source it carries (microphone, camera, screen, screen_audio; the server
fixes it at this negotiation and refuses a later relabelling); the server
answers ``publish_answer`` with the policy's decision per new source. To add or
drop a track, send ``publish`` again with the whole list. A screen is forwarded
only once its sharer has seen a preview and sent ``confirm_share`` (until then its
decision is ``share_awaiting_confirmation``). ``stop_publish`` ends a source (for a
screen, the share and, by default, its grant); ``stop_share`` ends the share, or
gives it up before confirming, without renegotiating. ``subscribe``
asks for the others' media: the server sends ``subscribe_offer`` (now, and
again whenever tracks come and go) and the client replies ``subscribe_answer``.
Nothing is forwarded to or from anyone who is not admitted. ``admitted``
carries the TURN servers to build both connections with (``ice_servers``,
with a time-limited credential for this participant; empty without TURN).

Files go over HTTP, never over this socket or peer to peer: ``file_token``
returns a short-lived token bound to this connection (``file_token``), which
the file endpoints take as ``Authorization: Bearer``; a file the policy lets
through reaches everyone admitted as ``file_shared``.

A join that fails because the meeting does not exist, or because the password
is missing or wrong, gets the same vague ``join_refused`` (reason
``join_failed``): the outside never learns which check failed.
"""

from __future__ import annotations

from pydantic import BaseModel

from .client_messages import (
    CLIENT_ADAPTER,
    Admit,
    AdmitAll,
    AskToUnmute,
    Ban,
    Chat,
    ClientMessage,
    ConfirmShare,
    Deny,
    EndMeeting,
    Grant,
    Join,
    Leave,
    Lock,
    LowerHand,
    Mute,
    MuteAll,
    MuteSelf,
    Publish,
    RaiseHand,
    Remove,
    Rename,
    Request,
    RequestFileToken,
    RequestShare,
    RequestUnmute,
    Revoke,
    SetRole,
    StopPublish,
    StopShare,
    Subscribe,
    SubscribeAnswer,
    TileSize,
    TrackInfo,
    UpdatePolicy,
)
from .server_messages import (
    SERVER_ADAPTER,
    Admitted,
    BackToWaitingRoom,
    ChatMessage,
    Dismissed,
    Error,
    FileShared,
    FileToken,
    GrantInfo,
    IceServer,
    JoinRefused,
    Meeting,
    MeetingInfo,
    Moved,
    Notice,
    OfferedTrack,
    PolicyMessage,
    PublishAnswer,
    Result,
    RosterEntry,
    RosterUpdate,
    SelfState,
    ServerMessage,
    Speaking,
    SubscribeOffer,
    TrackDecision,
    Waiting,
    WaitingEntry,
    WaitingList,
    WaitingUpdate,
    Welcome,
    You,
)
from .vocabulary import (
    CLOSE_INVALID_DATA,
    CLOSE_JOIN_REFUSED,
    CLOSE_MOVED,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_REPLACED,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNSUPPORTED,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    SOURCES,
    Id,
    LanguageTag,
    Name,
    Params,
    ParamValue,
    Role,
    ShareKind,
    Source,
    Surface,
    Token,
    WireModel,
    kind_of,
)

__all__ = [
    "CLIENT_ADAPTER",
    "CLOSE_INVALID_DATA",
    "CLOSE_JOIN_REFUSED",
    "CLOSE_MOVED",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_REPLACED",
    "CLOSE_SERVICE_RESTART",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNSUPPORTED",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "SERVER_ADAPTER",
    "SOURCES",
    "Admit",
    "AdmitAll",
    "Admitted",
    "AskToUnmute",
    "BackToWaitingRoom",
    "Ban",
    "Chat",
    "ChatMessage",
    "ClientMessage",
    "ConfirmShare",
    "Deny",
    "Dismissed",
    "EndMeeting",
    "Error",
    "FileShared",
    "FileToken",
    "Grant",
    "GrantInfo",
    "IceServer",
    "Id",
    "Join",
    "JoinRefused",
    "LanguageTag",
    "Leave",
    "Lock",
    "LowerHand",
    "Meeting",
    "MeetingInfo",
    "Moved",
    "Mute",
    "MuteAll",
    "MuteSelf",
    "Name",
    "Notice",
    "OfferedTrack",
    "ParamValue",
    "Params",
    "PolicyMessage",
    "Publish",
    "PublishAnswer",
    "RaiseHand",
    "Remove",
    "Rename",
    "Request",
    "RequestFileToken",
    "RequestShare",
    "RequestUnmute",
    "Result",
    "Revoke",
    "Role",
    "RosterEntry",
    "RosterUpdate",
    "SelfState",
    "ServerMessage",
    "SetRole",
    "ShareKind",
    "Source",
    "Speaking",
    "StopPublish",
    "StopShare",
    "Subscribe",
    "SubscribeAnswer",
    "SubscribeOffer",
    "Surface",
    "TileSize",
    "Token",
    "TrackDecision",
    "TrackInfo",
    "UpdatePolicy",
    "Waiting",
    "WaitingEntry",
    "WaitingList",
    "WaitingUpdate",
    "Welcome",
    "WireModel",
    "You",
    "encode",
    "kind_of",
]


def encode(message: BaseModel) -> str:
    """The JSON text of a message, as sent on the socket."""
    return message.model_dump_json()
