"""The narrow seam between a Room and its media scope.

A Room drives its own media scope (``server/media``'s MediaRoom: its
publishers, subscribers, gates and forwarding tables, and nothing of any
other meeting) synchronously: opening and closing gates, letting an admitted
person publish and subscribe, ending a person's media. Releasing peer
connections happens in the media scope's background, never in the Room.
"""

from __future__ import annotations

from typing import Protocol

from meetwarden.protocol import Source

__all__ = ["NoMedia", "RoomMedia"]


class RoomMedia(Protocol):
    def admit(self, participant_id: str) -> None: ...

    def close_participant(self, participant_id: str) -> None: ...

    def set_gate(self, participant_id: str, source: Source, open: bool) -> None: ...

    def close_nowait(self) -> None: ...


class NoMedia:
    """The media scope of a server run without media: forwards nothing."""

    def admit(self, participant_id: str) -> None:
        return None

    def close_participant(self, participant_id: str) -> None:
        return None

    def set_gate(self, participant_id: str, source: Source, open: bool) -> None:
        return None

    def close_nowait(self) -> None:
        return None
