"""The policy's ``removal`` section: what a participant a host removed may do next."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section

__all__ = ["Rejoin", "Removal"]

Rejoin = Literal["never", "via_waiting_room", "allowed"]


class Removal(Section):
    rejoin: Rejoin = Field(
        default="never",
        description=(
            "What a removed participant may do: `never` rejoin this meeting, rejoin only "
            "`via_waiting_room` (even if they could bypass it before), or rejoin as anyone "
            "else (`allowed`)."
        ),
    )
