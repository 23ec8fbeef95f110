"""The policy's ``audio`` section: who is muted on entry, and who may lift a mute."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section

__all__ = ["Audio", "UnmuteMode"]

UnmuteMode = Literal["self", "after_raised_hand", "host_only"]


class Audio(Section):
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
