"""What a client sends: joining, its own actions, host actions, media signalling.

The server reads these strictly: unknown fields and unknown types are refused
with an ``error`` (see ``server/ws.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from .vocabulary import Id, LanguageTag, Name, ShareKind, Source, Surface, Token, WireModel

__all__ = [
    "CLIENT_ADAPTER",
    "Admit",
    "AdmitAll",
    "AskToUnmute",
    "Ban",
    "Chat",
    "ClientMessage",
    "ConfirmShare",
    "Deny",
    "EndMeeting",
    "Grant",
    "Join",
    "Leave",
    "Lock",
    "LowerHand",
    "Mute",
    "MuteAll",
    "MuteSelf",
    "Publish",
    "RaiseHand",
    "Remove",
    "Rename",
    "Request",
    "RequestFileToken",
    "RequestShare",
    "RequestUnmute",
    "Revoke",
    "SetRole",
    "StopPublish",
    "StopShare",
    "Subscribe",
    "SubscribeAnswer",
    "TileSize",
    "TrackInfo",
    "UpdatePolicy",
]


class Request(WireModel):
    """A client message the server answers (with a ``result``, an ``error`` or its own reply)."""

    id: Annotated[int, Field(ge=0, le=2**53)] | None = None
    """Chosen by the client; echoed as ``ref`` on the reply."""


# --- client to server: joining and leaving -----------------------------------


class Join(Request):
    type: Literal["join"] = "join"
    name: Name
    password: Annotated[str, Field(max_length=256)] | None = Field(default=None, repr=False)
    invite: Token | None = Field(default=None, repr=False)
    host_token: Token | None = Field(default=None, repr=False)
    device_token: Token | None = Field(default=None, repr=False)
    """Returned in ``welcome``; presenting it again identifies this device (bans hold)."""
    resume_token: Token | None = Field(default=None, repr=False)
    """From ``admitted``: rejoin after a dropped connection without waiting again."""
    language: LanguageTag | None = None
    """The language this participant reads (a BCP 47 tag such as ``zh-CN``): every
    ``message`` and ``text`` the server sends them is written in it. English when absent
    or when the server has no catalog for it; ``reason`` and ``params`` never change."""


class Leave(Request):
    type: Literal["leave"] = "leave"


# --- client to server: participant actions -----------------------------------


class RaiseHand(Request):
    type: Literal["raise_hand"] = "raise_hand"


class LowerHand(Request):
    """Lower one's own hand, or (hosts) someone else's."""

    type: Literal["lower_hand"] = "lower_hand"
    participant: Id | None = None


class RequestUnmute(Request):
    type: Literal["request_unmute"] = "request_unmute"


class MuteSelf(Request):
    type: Literal["mute_self"] = "mute_self"


class RequestShare(Request):
    type: Literal["request_share"] = "request_share"
    kind: ShareKind


class ConfirmShare(Request):
    """The sharer saw the preview of its published screen and confirms it: only then does
    the server forward it (a screen published and not confirmed reaches nobody)."""

    type: Literal["confirm_share"] = "confirm_share"


class StopShare(Request):
    """Stop sharing the screen, or give up sharing before confirming (the preview's
    Cancel): the screen stops being forwarded and, as the policy's
    ``screen_share.grant_ends_with_share`` says, the grant ends."""

    type: Literal["stop_share"] = "stop_share"


class Chat(Request):
    type: Literal["chat"] = "chat"
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    to: Id | None = None
    """A private message's recipient (a participant id); None for everyone."""


class Rename(Request):
    type: Literal["rename"] = "rename"
    name: Name


class RequestFileToken(Request):
    """Ask for a short-lived token for this meeting's file endpoints (answered by
    ``file_token``). It says who you are on this connection, never what you may do:
    every upload and download is checked live against the policy and your admission."""

    type: Literal["file_token"] = "file_token"


# --- client to server: host actions ------------------------------------------


class _OnParticipant(Request):
    participant: Id


class Admit(_OnParticipant):
    type: Literal["admit"] = "admit"


class Deny(_OnParticipant):
    type: Literal["deny"] = "deny"


class AdmitAll(Request):
    type: Literal["admit_all"] = "admit_all"


class Remove(_OnParticipant):
    type: Literal["remove"] = "remove"


class Ban(_OnParticipant):
    type: Literal["ban"] = "ban"


class Lock(Request):
    type: Literal["lock"] = "lock"
    locked: bool


class Mute(_OnParticipant):
    type: Literal["mute"] = "mute"


class MuteAll(Request):
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


class UpdatePolicy(Request):
    type: Literal["update_policy"] = "update_policy"
    policy: dict[str, Any]


class EndMeeting(Request):
    type: Literal["end_meeting"] = "end_meeting"


# --- client to server: media signalling --------------------------------------


class TrackInfo(WireModel):
    mid: Annotated[str, Field(min_length=1, max_length=32)]
    source: Source
    surface: Surface | None = None


class Publish(Request):
    """The client's offer for its publishing connection; answered by ``publish_answer``."""

    type: Literal["publish"] = "publish"
    sdp: Annotated[str, Field(min_length=1, max_length=60_000)]
    tracks: Annotated[list[TrackInfo], Field(max_length=8)]


class Subscribe(Request):
    """Ready to receive media: the server answers with a ``subscribe_offer`` (and sends new
    offers whenever the forwarded tracks change)."""

    type: Literal["subscribe"] = "subscribe"


class StopPublish(Request):
    type: Literal["stop_publish"] = "stop_publish"
    source: Source


class SubscribeAnswer(Request):
    type: Literal["subscribe_answer"] = "subscribe_answer"
    sdp: Annotated[str, Field(min_length=1, max_length=60_000)]


class TileSize(Request):
    """The size, in device pixels, you show one participant's video at (a camera or screen
    tile): the server forwards the smallest simulcast layer that covers it. Send it when
    the tile appears and again when it resizes; no answer unless it is refused."""

    type: Literal["tile_size"] = "tile_size"
    participant: Id
    source: Literal["camera", "screen"]
    width: Annotated[int, Field(ge=1, le=16_384)]
    height: Annotated[int, Field(ge=1, le=16_384)]


ClientMessage = Annotated[
    Join
    | Leave
    | RaiseHand
    | LowerHand
    | RequestUnmute
    | MuteSelf
    | RequestShare
    | ConfirmShare
    | StopShare
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
    | SubscribeAnswer
    | TileSize,
    Field(discriminator="type"),
]
CLIENT_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
