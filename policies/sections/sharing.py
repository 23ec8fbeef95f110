"""The policy's ``screen_share`` and ``file_share`` sections: who may share, what and how.

Both sections say who may share (``allowed``) and how long a grant lasts
(``grant_minutes``, which only a ``with_grant`` section may set); a screen
share adds the surfaces a browser may offer, a file share the types and size
accepted and the malware scan.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from meetwarden.protocol.vocabulary import Surface

from ..errors import FieldError
from ..filetypes import FORBIDDEN_TYPES, is_mime_type
from .base import Section, ShortText, no_duplicates

__all__ = ["FileShare", "ScreenShare", "ShareAllowed", "Surface"]

ShareAllowed = Literal["nobody", "host_only", "with_grant", "anyone"]


def _check_grant_minutes(section: _ShareSection, path: str) -> None:
    if section.explicitly_set("grant_minutes") and section.allowed != "with_grant":
        raise FieldError(
            "grant_minutes",
            f"grant_minutes applies only when {path}allowed is 'with_grant' "
            f"(it is {section.allowed!r}); remove grant_minutes or set allowed to 'with_grant'",
            key="grant_minutes_needs_with_grant",
            section=path,
            allowed=section.allowed,
        )


class _ShareSection(Section):
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
        no_duplicates(self.surfaces, "surfaces")
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
                    key="not_a_mime_type",
                    value=mime,
                )
            if mime.lower() in FORBIDDEN_TYPES:
                raise FieldError(
                    "types",
                    f"{mime!r} can never be shared: executables and scripts are refused "
                    "whatever the policy lists; remove it",
                    "invalid_value",
                    key="type_never_shared",
                    value=mime,
                )
        no_duplicates(self.types, "types")
        return self
