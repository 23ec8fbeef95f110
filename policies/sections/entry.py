"""The policy's ``entry`` section: who gets in, and how.

A meeting password, the waiting room, full names, a working camera, what a
person's identity is for this meeting, and how long a dropped connection
keeps its place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..errors import FieldError
from .base import Section, ShortText, no_duplicates

__all__ = [
    "BypassRole",
    "Camera",
    "CameraAction",
    "Entry",
    "FullName",
    "Identity",
    "WaitingRoom",
]

CameraAction = Literal["warn", "waiting_room", "remove"]
Identity = Literal["anyone", "invited"]
BypassRole = Literal["host", "cohost", "invited"]


class WaitingRoom(Section):
    enabled: bool = Field(
        default=True,
        description="Everyone who joins waits until a host or co-host admits them.",
    )
    bypass: tuple[BypassRole, ...] = Field(
        default=("host", "cohost"),
        description=(
            "Who goes straight in without waiting: `host`, `cohost` (people joining with "
            "a co-host invite) and `invited` (anyone joining with an invite). The host "
            "always gets in, so it never waits in its own waiting room."
        ),
    )

    max_share_per_source: int = Field(
        default=25,
        ge=1,
        le=100,
        description=(
            "The largest share of the waiting room, in percent of its capacity "
            "(`entry.max_participants`), that people joining from one network (an IPv4 /24 "
            "or an IPv6 /64) may hold at once, so that one source cannot fill it; one "
            "person from a network may always wait. People with an invite, co-hosts and "
            "hosts are not counted. 100 turns the limit off (1 to 100)."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> WaitingRoom:
        no_duplicates(self.bypass, "bypass")
        if not self.enabled and self.explicitly_set("bypass") and self.bypass:
            raise FieldError(
                "bypass",
                "bypass applies only when the waiting room is enabled; "
                "remove bypass or set enabled to true",
                key="bypass_needs_waiting_room",
            )
        return self


class FullName(Section):
    required: bool = Field(
        default=True,
        description=(
            "Participants must give their full name. Names are Unicode-normalised; "
            "control, bidi-override and zero-width characters are refused; words are "
            "counted on letters (a Chinese or Japanese name written without spaces counts "
            "as a full name); a full name is letters in any script with spaces, hyphens, "
            "apostrophes, periods, commas or middle dots between them, not digits or symbols."
        ),
    )
    min_words: int = Field(
        default=2,
        ge=1,
        le=8,
        description="How many words a full name has at least (1 to 8).",
    )
    max_length: int = Field(
        default=64,
        ge=8,
        le=256,
        description="The longest name accepted, in characters after normalisation (8 to 256).",
    )
    reject_lookalikes_of: tuple[Literal["host", "cohost"], ...] = Field(
        default=("host", "cohost"),
        description=(
            "Refuse names that look like the name of a host or co-host in the meeting "
            "(confusable characters such as a Greek Alpha for a Latin A, spacing and case "
            "are ignored when comparing)."
        ),
    )
    blocked_words: tuple[ShortText, ...] = Field(
        default=("host", "admin", "moderator"),
        max_length=200,
        description=(
            "Words a name may not contain, compared case-insensitively and after folding "
            "look-alike characters (so `Ηost` with a Greek Eta is caught)."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> FullName:
        no_duplicates(self.reject_lookalikes_of, "reject_lookalikes_of")
        no_duplicates(self.blocked_words, "blocked_words")
        return self


class Camera(Section):
    required: bool = Field(
        default=False,
        description=(
            "Participants must send working video: the server checks that frames really "
            "arrive, at least `min_fps`, and that they are not black or frozen."
        ),
    )
    check_seconds: int = Field(
        default=10,
        ge=1,
        le=300,
        description="Seconds after admission within which video must arrive (1 to 300).",
    )
    min_fps: int = Field(
        default=5,
        ge=0,
        le=60,
        description="Frames per second that count as working video (1 to 60 when required).",
    )
    on_missing: CameraAction = Field(
        default="waiting_room",
        description=(
            "What happens when no working video arrived within `check_seconds`: `warn` the "
            "participant and the host, send them back to the `waiting_room`, or `remove` them."
        ),
    )
    on_lost: CameraAction = Field(
        default="warn",
        description=(
            "What happens when video stops, freezes or turns black after it worked and does "
            "not come back within `lost_grace_seconds`."
        ),
    )
    lost_grace_seconds: int = Field(
        default=15,
        ge=0,
        le=600,
        description="Seconds a lost camera has to come back before `on_lost` applies (0 to 600).",
    )

    @model_validator(mode="after")
    def _check(self) -> Camera:
        if self.required and self.min_fps == 0:
            raise FieldError(
                "min_fps",
                "a required camera needs min_fps of at least 1; "
                "with 0 any silent track would pass the check",
                key="required_camera_needs_min_fps",
            )
        return self


class Entry(Section):
    password: bool = Field(
        default=False,
        description=(
            "A meeting password is required to join. The password itself is never part of "
            "a policy: the host gives it when the meeting is created."
        ),
    )
    waiting_room: WaitingRoom = Field(default_factory=WaitingRoom)
    locked: bool = Field(
        default=False,
        description="Nobody new can join, and nobody waiting is admitted, until a host unlocks.",
    )
    max_participants: int = Field(
        default=100,
        ge=2,
        le=1000,
        description="Most people admitted at once, hosts included (2 to 1000).",
    )
    full_name: FullName = Field(default_factory=FullName)
    camera: Camera = Field(default_factory=Camera)
    identity: Identity = Field(
        default="anyone",
        description=(
            "Who a person is, for this meeting. `anyone`: whoever has the link (and the "
            "password, if one is set) joins under the name they type, and a removal or a "
            "ban holds against their device and their name, so a determined person can come "
            "back under another name from another device. `invited`: only people with a "
            "personal invite join; each invite is one person (the first join binds it, and "
            "a second person presenting it while the first holds it is refused), and a "
            "removal or a ban holds against the invite, whatever name or device is used."
        ),
    )
    reconnect_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description=(
            "How long someone whose connection dropped keeps their place (admitted or "
            "waiting, role, mute, grants) and may resume it with their single-use resume "
            "token (0 to 3600 seconds). After that, or with 0, they join again through the "
            "policy like anyone new."
        ),
    )
