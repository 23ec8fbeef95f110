"""The policy a host writes, as strict pydantic models.

Every field has a default, and the defaults are the private choice (waiting
room on, everyone muted on entry, sharing for the host only), as the privacy
guides for meeting hosts advise. The models are strict (no lax coercion:
``"off"`` is not ``false``), forbid unknown fields and are frozen, so a
validated policy can be shared by every decision without copying.

Field descriptions are the reference: ``docs/policy.md`` and the published
JSON Schema (``meetwarden policy schema``) are generated from them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meetwarden.protocol.vocabulary import Surface

from .errors import FieldError
from .filetypes import FORBIDDEN_TYPES, is_mime_type

__all__ = [
    "SCHEMA_ID",
    "Audio",
    "BypassRole",
    "Camera",
    "CameraAction",
    "Chat",
    "ChatAllowed",
    "ChatPrivate",
    "Entry",
    "FileShare",
    "FullName",
    "Identity",
    "Policy",
    "Rejoin",
    "Removal",
    "ScreenShare",
    "ShareAllowed",
    "Surface",
    "UnmuteMode",
    "WaitingRoom",
]

SCHEMA_ID = "https://meetwarden.example/schema/policy-v1.json"

UnmuteMode = Literal["self", "after_raised_hand", "host_only"]
ShareAllowed = Literal["nobody", "host_only", "with_grant", "anyone"]
CameraAction = Literal["warn", "waiting_room", "remove"]
Rejoin = Literal["never", "via_waiting_room", "allowed"]
Identity = Literal["anyone", "invited"]
BypassRole = Literal["host", "cohost", "invited"]
ChatAllowed = Literal["nobody", "host_only", "everyone"]
ChatPrivate = Literal["off", "hosts", "everyone"]

ShortText = Annotated[str, Field(min_length=1, max_length=64)]


class _Section(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def explicitly_set(self, field: str) -> bool:
        """True when the host wrote this field, rather than taking its default."""
        return field in self.model_fields_set


def _no_duplicates(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        key = value.casefold()
        if key in seen:
            raise FieldError(
                what, f"{value!r} is listed twice; list each one once", "invalid_value"
            )
        seen.add(key)
    return values


class WaitingRoom(_Section):
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
        _no_duplicates(self.bypass, "bypass")
        if not self.enabled and self.explicitly_set("bypass") and self.bypass:
            raise FieldError(
                "bypass",
                "bypass applies only when the waiting room is enabled; "
                "remove bypass or set enabled to true",
            )
        return self


class FullName(_Section):
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
        _no_duplicates(self.reject_lookalikes_of, "reject_lookalikes_of")
        _no_duplicates(self.blocked_words, "blocked_words")
        return self


class Camera(_Section):
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
            )
        return self


class Entry(_Section):
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


class Audio(_Section):
    mute_on_entry: bool = Field(
        default=True,
        description="Everyone except hosts is muted when admitted.",
    )
    unmute: UnmuteMode = Field(
        default="after_raised_hand",
        description=(
            "Who lifts a mute: `self` (participants unmute themselves), `after_raised_hand` "
            "(a participant raises a hand and may unmute once a host allows it), or "
            "`host_only` (only a host's permission lets a participant unmute)."
        ),
    )


def _check_grant_minutes(section: _ShareSection, path: str) -> None:
    if section.explicitly_set("grant_minutes") and section.allowed != "with_grant":
        raise FieldError(
            "grant_minutes",
            f"grant_minutes applies only when {path}allowed is 'with_grant' "
            f"(it is {section.allowed!r}); remove grant_minutes or set allowed to 'with_grant'",
        )


class _ShareSection(_Section):
    allowed: ShareAllowed = "host_only"
    grant_minutes: int = 15


class ScreenShare(_ShareSection):
    allowed: ShareAllowed = Field(
        default="host_only",
        description=(
            "Who may share a screen: `nobody`, `host_only` (hosts and co-hosts), `with_grant` "
            "(hosts, and participants a host has granted it to), or `anyone` admitted."
        ),
    )
    max_concurrent: int = Field(
        default=1,
        ge=1,
        le=16,
        description="How many screens may be shared at the same time (1 to 16).",
    )
    grant_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="How long a grant lasts when the host gives no expiry (1 to 1440 minutes).",
    )
    grant_ends_with_share: bool = Field(
        default=True,
        description="A grant ends when its share stops; sharing again needs a new grant.",
    )
    surfaces: tuple[Surface, ...] = Field(
        default=("window",),
        min_length=1,
        description=(
            "What a browser may offer to share: a `window`, a `browser` tab, or a whole "
            "`monitor`. The default, one window, keeps notifications and other windows private."
        ),
    )
    audio: bool = Field(
        default=False,
        description="A screen share may carry its own audio (for example a video's sound).",
    )

    @model_validator(mode="after")
    def _check(self) -> ScreenShare:
        _check_grant_minutes(self, "screen_share/")
        _no_duplicates(self.surfaces, "surfaces")
        return self


class FileShare(_ShareSection):
    allowed: ShareAllowed = Field(
        default="host_only",
        description="Who may share a file; the same choices as for `screen_share.allowed`.",
    )
    max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        le=1024 * 1024 * 1024,
        description="The largest file accepted, in bytes (1 byte to 1 GiB).",
    )
    types: tuple[ShortText, ...] = Field(
        default=("application/pdf", "image/png", "image/jpeg", "text/plain"),
        min_length=1,
        max_length=100,
        description=(
            "MIME types accepted, judged on the file's content (not its name). Executables "
            "and scripts are refused whatever this lists."
        ),
    )
    grant_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="How long a file-sharing grant lasts when the host gives no expiry.",
    )
    scan: bool = Field(
        default=False,
        description=(
            "Scan every file for malware (ClamAV) before anyone else sees it; when the "
            "scanner is down, files are held, never passed unchecked."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> FileShare:
        _check_grant_minutes(self, "file_share/")
        for mime in self.types:
            if not is_mime_type(mime):
                raise FieldError(
                    "types",
                    f"{mime!r} is not a MIME type; write it as type/subtype, "
                    "for example 'application/pdf'",
                    "invalid_value",
                )
            if mime.lower() in FORBIDDEN_TYPES:
                raise FieldError(
                    "types",
                    f"{mime!r} can never be shared: executables and scripts are refused "
                    "whatever the policy lists; remove it",
                    "invalid_value",
                )
        _no_duplicates(self.types, "types")
        return self


class Chat(_Section):
    allowed: ChatAllowed = Field(
        default="everyone",
        description="Who may send chat messages: `nobody`, `host_only`, or `everyone` admitted.",
    )
    private: ChatPrivate = Field(
        default="hosts",
        description=(
            "Who may be written to privately (a message only its recipient sees), as Zoom's "
            '"participants can chat with": `off` (no private messages, hosts included), '
            "`hosts` (participants write privately to the host and co-hosts only; hosts and "
            "co-hosts to anyone), or `everyone` (anyone admitted to anyone admitted). Who may "
            "send at all is still `allowed`; people waiting can never be written to."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> Chat:
        if not self.explicitly_set("private") or self.private == "off":
            return self
        if self.allowed == "nobody":
            raise FieldError(
                "private",
                f"private is {self.private!r} but chat.allowed is 'nobody', so nobody may "
                "send any message; set private to 'off' or remove it",
            )
        if self.allowed == "host_only" and self.private == "everyone":
            raise FieldError(
                "private",
                "private 'everyone' would let participants write to each other, but "
                "chat.allowed 'host_only' lets only hosts and co-hosts send; "
                "set private to 'hosts' (hosts write to anyone) or 'off'",
            )
        return self


class Removal(_Section):
    rejoin: Rejoin = Field(
        default="never",
        description=(
            "What a removed participant may do: `never` rejoin this meeting, rejoin only "
            "`via_waiting_room` (even if they could bypass it before), or rejoin as anyone "
            "else (`allowed`)."
        ),
    )


class Policy(_Section):
    """A host's privacy policy for a meeting."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        title="meetwarden policy",
        json_schema_extra={"$id": SCHEMA_ID},
    )

    version: Literal[1] = Field(default=1, description="The policy language version: 1.")
    name: str = Field(
        default="",
        max_length=200,
        description="A name for the policy, shown to the host.",
    )
    entry: Entry = Field(default_factory=Entry)
    audio: Audio = Field(default_factory=Audio)
    screen_share: ScreenShare = Field(default_factory=ScreenShare)
    file_share: FileShare = Field(default_factory=FileShare)
    chat: Chat = Field(default_factory=Chat)
    removal: Removal = Field(default_factory=Removal)
