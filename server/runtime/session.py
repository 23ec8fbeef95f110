"""One participant's connection as the runtime sees it: an outbox and a way to close.

The runtime never waits on a slow client: messages go to a bounded outbox
that the socket's writer drains; a client that falls that far behind is
closed (CLOSE_POLICY) rather than allowed to hold the meeting up. While
nothing waits in the outbox, a socket may take a message straight to its
connection instead (``direct``, ``server/frame_writer.py``), in the same order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import BaseModel

from meetwarden.protocol import CLOSE_POLICY, encode

from ..i18n import DEFAULT_LANGUAGE, Language

__all__ = ["Session"]

OUTBOX_LIMIT = 1000


class Session:
    def __init__(
        self,
        participant_id: str,
        *,
        device_id: str,
        device_token: str,
        language: Language = DEFAULT_LANGUAGE,
    ) -> None:
        self.participant_id = participant_id
        self.device_id = device_id
        self.device_token = device_token
        self.language: Language = language
        """What this participant reads: every sentence sent to them is written in it."""
        self._outbox: asyncio.Queue[str | None] | None = None
        self._early: list[str] | None = None
        """What was sent before the socket took the session (``wake`` unset: a join's own
        answers), kept in a list until the socket takes it or the outbox is made."""
        self.close_code: int | None = None
        self.close_reason = ""
        self.direct: Callable[[str], bool] | None = None
        """Takes a message to the connection at once, or answers False (it cannot take a
        write now): set by the socket once it is joined."""
        self.writing = False
        """The socket's writer holds a message it took from the outbox and has not written:
        nothing may overtake it."""
        self.wake: Callable[[], None] | None = None
        """Called when a message or the close is put in the outbox: the socket starts its
        writer then (a socket whose every message goes ``direct`` never needs one)."""

    @property
    def outbox(self) -> asyncio.Queue[str | None]:
        """What waits for the socket's writer, made when first needed: a socket whose
        every message goes ``direct`` never needs one."""
        if self._outbox is None:
            self._outbox = asyncio.Queue(OUTBOX_LIMIT)
            for text in self._early or ():
                self._outbox.put_nowait(text)
            self._early = None
        return self._outbox

    def has_queued(self) -> bool:
        """Whether anything waits to be written."""
        return bool(self._early) or (self._outbox is not None and not self._outbox.empty())

    def take_queued(self) -> list[str | None]:
        """Everything that waits to be written, in order, taken out."""
        taken: list[str | None] = [*(self._early or ())]
        self._early = None
        while self._outbox is not None and not self._outbox.empty():
            taken.append(self._outbox.get_nowait())
        return taken

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def send(self, message: BaseModel) -> None:
        self.send_text(encode(message))

    def send_text(self, text: str) -> None:
        """Sends an already encoded message (a broadcast is encoded once, not per reader)."""
        if self.closing:
            return
        direct = self.direct
        if direct is not None and not self.writing and not self.has_queued() and direct(text):
            return
        if self.wake is None and self._outbox is None and len(self._early or ()) < OUTBOX_LIMIT:
            if self._early is None:
                self._early = []
            self._early.append(text)
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.close(CLOSE_POLICY, "too slow to read; reconnect")
            return
        if self.wake is not None:
            self.wake()

    def detach(self) -> None:
        """The socket is gone (its writer done): what reached it is let go. ``wake`` is the
        socket's writer, which holds this session: kept, the two would live on as a cycle
        that only the cycle collector frees (with the socket's every object)."""
        self.direct = self.wake = None

    def close(self, code: int, reason: str = "") -> None:
        """Ask the writer to close the socket once what was sent before is delivered."""
        if self.closing:
            return
        self.close_code, self.close_reason = code, reason[:123]
        try:
            self.outbox.put_nowait(None)
        except asyncio.QueueFull:
            # The writer finds the code set when it next wakes; drop the backlog to wake it.
            while not self.outbox.empty():
                self.outbox.get_nowait()
            self.outbox.put_nowait(None)
        if self.wake is not None:
            self.wake()
