"""The policy a host writes, as strict pydantic models.

Every field has a default, and the defaults are the private choice (waiting
room on, everyone muted on entry, sharing for the host only), as the privacy
guides for meeting hosts advise. The models are strict (no lax coercion:
``"off"`` is not ``false``), forbid unknown fields and are frozen, so a
validated policy can be shared by every decision without copying.

This module holds the whole :class:`Policy`; each of its sections is a module
of ``sections/`` (``entry``, ``audio``, ``sharing``, ``chat``, ``removal``),
re-exported here so that ``from meetwarden.policies.model import ...`` names
any part of a policy.

Field descriptions are the reference: ``docs/policy.md`` and the published
JSON Schema (``meetwarden policy schema``) are generated from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from .sections.audio import Audio, UnmuteMode
from .sections.base import Section
from .sections.chat import Chat, ChatAllowed, ChatPrivate
from .sections.entry import (
    BypassRole,
    Camera,
    CameraAction,
    Entry,
    FullName,
    Identity,
    WaitingRoom,
)
from .sections.removal import Rejoin, Removal
from .sections.sharing import FileShare, ScreenShare, ShareAllowed, Surface

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


class Policy(Section):
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
