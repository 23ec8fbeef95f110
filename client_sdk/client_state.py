"""What every part of a MeetingClient stands on: what it knows, its socket, its plumbing.

A ``MeetingClient`` (``client.py``) is this state plus its parts: joining and
resuming (``joining.py``), receiving (``receiving.py``), the requests a
participant makes (``requesting.py``) and those of a host (``host_actions.py``).
The state is what the client knows of the meeting (its status, roster, waiting
list, policy), the socket and the replies awaited on it, the events not taken
yet, and the media session; the parts call one another through the methods
declared here.
"""

from __future__ import annotations

import asyncio
import itertools
from abc import abstractmethod
from typing import Any

from websockets.asyncio.client import ClientConnection

from meetwarden import protocol as wire

from . import events as ev
from .errors import ConnectionClosedError, DismissedError, MeetwardenError
from .ice import IceOptions

__all__ = ["ClientState"]


class ClientState:
    """One participant's connection: what it knows, and what its parts share."""

    def __init__(self, server: str, meeting_id: str, *, resume_automatically: bool = True) -> None:
        self.server = server
        """The node this client talks to (the one that holds the meeting, once moved)."""
        self.entry_server = server
        """The server of the link: asked again when the node holding the meeting is gone."""
        self.moved_to: str | None = None
        """Where a ``moved`` during the meeting sends this client (a node that stops sends
        the people it serves for another node to that node): resumed there at the close."""
        self.meeting_id = meeting_id
        self.participant_id: str | None = None
        self.role: str | None = None
        self.device_token: str | None = None
        self.resume_token: str | None = None
        self.status = "connecting"
        self.you: wire.SelfState | None = None
        self.meeting: wire.MeetingInfo | None = None
        self.roster: list[wire.RosterEntry] = []
        self.waiting: list[wire.WaitingEntry] = []
        self.speaking: list[str] = []
        """Who the server last said is speaking (participant ids, ``SpeakingChanged``)."""
        self.policy: dict[str, Any] | None = None
        self.dismissal: wire.Dismissed | None = None
        self.ice_servers: list[wire.IceServer] = []
        """The TURN servers the server gave this participant at its last admission."""
        self.ice = IceOptions()
        """Which of them the media connections opened from now on use (client_sdk/ice.py)."""
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._media: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._buffer: list[ev.Event] = []
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        self._closing = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.resume_automatically = resume_automatically
        """Resume by itself after a server restart or a dropped connection (see
        RESUMABLE_CLOSE_CODES) for up to ``resume_within`` seconds."""
        self.resume_within = 120.0
        self._join_message: wire.Join | None = None
        self.language: str | None = None
        """The language the server writes this client's sentences in (``connect``)."""
        self._resuming: asyncio.Task[None] | None = None

    def _gone(self) -> MeetwardenError:
        if self.dismissal is not None:
            d = self.dismissal
            return DismissedError(d.why, d.reason, d.rule, d.message, d.params)
        return ConnectionClosedError(self.close_code, self.close_reason)

    async def _drop_media(self) -> None:
        """Media ends with the connection: the next ``media`` is a new session."""
        media, self._media = self._media, None
        if media is not None:
            await media.close()

    # --- what the parts ask of one another -------------------------------------------

    @abstractmethod
    def _take(self, message: Any) -> None:
        """Updates what the client knows, and queues the typed events (receiving.py)."""

    @abstractmethod
    async def _read(self) -> None:
        """Reads the socket until it closes (receiving.py)."""

    @abstractmethod
    async def _resume_after_drop(self) -> None:
        """Resumes the place after a dropped connection (joining.py)."""

    @abstractmethod
    async def request(self, message: wire.Request, timeout: float = 15.0) -> wire.Result:
        """Sends a request and waits for the decision (requesting.py)."""

    @abstractmethod
    async def close(self) -> None:
        """Closes the connection (client.py)."""
