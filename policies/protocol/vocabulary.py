"""The words both sides of the wire share: sources, roles, limits and close codes.

``Source`` is the one type the engine, the wire and the media plane all use for
what a published track is; the server fixes it at negotiation, never a label.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CLOSE_INVALID_DATA",
    "CLOSE_JOIN_REFUSED",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_REPLACED",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNSUPPORTED",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "SOURCES",
    "Id",
    "LanguageTag",
    "Name",
    "ParamValue",
    "Params",
    "Role",
    "ShareKind",
    "Source",
    "Surface",
    "Token",
    "WireModel",
    "kind_of",
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
CLOSE_SERVICE_RESTART = 1012  # restarting, or the meeting is on another worker: reconnect
CLOSE_TRY_AGAIN_LATER = 1013  # too many sockets from one address; close one and retry
CLOSE_JOIN_REFUSED = 4003  # after join_refused
CLOSE_REPLACED = 4009  # the same host signed in elsewhere
CLOSE_MOVED = 4010  # after moved: another node holds the meeting

Source = Literal["microphone", "camera", "screen", "screen_audio"]
ShareKind = Literal["screen", "file"]
Surface = Literal["window", "browser", "monitor"]
Role = Literal["host", "cohost", "participant"]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Token = Annotated[str, Field(min_length=1, max_length=4096)]
Name = Annotated[str, Field(max_length=1024)]
LanguageTag = Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9_-]+$")]
"""A BCP 47 language tag (``en``, ``zh-CN``); RFC 5646 section 4.4.1 fits any in 35."""
ParamValue = str | int | list[str]
Params = dict[str, ParamValue]
"""What a sentence needs besides its reason code: ``{"name": "Ada Lovelace"}``,
``{"kind": "screen", "seconds": 600}``. The same in every language, so a bot can write
its own sentence from ``reason`` and ``params``."""

SOURCES: tuple[Source, ...] = get_args(Source)
_KINDS: dict[str, Literal["audio", "video"]] = {
    "microphone": "audio",
    "camera": "video",
    "screen": "video",
    "screen_audio": "audio",
}


def kind_of(source: Source) -> Literal["audio", "video"]:
    """The WebRTC media kind a source must be negotiated as."""
    return _KINDS[source]


class WireModel(BaseModel):
    """Every message: strict, no unknown fields, frozen (the server's reading of clients)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
