"""The narrow seam between the meeting runtime and the media plane.

The runtime opens and closes gates when a decision says so; the media plane
asks nothing of the policy. Until media is attached, gates are recorded only.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["MediaSeam", "NoMedia"]


class MediaSeam(Protocol):
    def set_gate(self, participant_id: str, source: str, open: bool) -> None: ...

    async def close_participant(self, participant_id: str) -> None: ...


class NoMedia:
    """A media plane that forwards nothing: for a server run without media."""

    def set_gate(self, participant_id: str, source: str, open: bool) -> None:
        return None

    async def close_participant(self, participant_id: str) -> None:
        return None
