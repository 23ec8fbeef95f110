"""What every part of a media room stands on: its tables, its admissions, its plumbing.

A ``MediaRoom`` (``room.py``) is this scope plus its publishing side
(``room_publishing.py``) and its subscribing side (``room_subscribing.py``).
The scope holds the room's state, which nothing outside the room can reach:
the participants admitted, the gates keyed by (participant, source), the
background tasks; it answers who is admitted, finds a gate or a track, and
carries what the room reports and starts (observations, background work,
connections to release) to the plane's callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiortc import RTCPeerConnection

from .aiortc_seam import release_peer_connection
from .camera_monitor import CameraCheck
from .errors import MediaError
from .events import Observation, Source
from .forwarder import Gate, PublishedTrack
from .participant import RoomParticipant
from .subscriber import SubscriberOffer

if TYPE_CHECKING:
    from .pipe_receiver import PipeReceiver
    from .pipe_sender import PipeSender
    from .room import MediaRoom

__all__ = ["RoomScope", "RoomSettings", "logger"]

# Every part of a room logs as the room always has, so a level set for
# meetwarden.server.media.room still reaches all of its lines.
logger = logging.getLogger(f"{__package__}.room")

_NOT_ADMITTED = "Media is only for participants admitted to this meeting."
_ROOM_CLOSED = "This meeting's media has ended."


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """The process-wide settings a plane gives each of its rooms."""

    camera_check: CameraCheck
    keyframe_interval: float
    replay_limit: int
    connect_timeout: float
    loss_repair: bool = True
    bandwidth_control: bool = True


class RoomScope:
    """One meeting's participants, gates and background work, and the room's plumbing."""

    def __init__(
        self,
        room_id: str,
        settings: RoomSettings,
        *,
        on_observation: Callable[[Observation], None],
        on_subscriber_offer: Callable[[str, SubscriberOffer], None] | None,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
        watch_cameras: Callable[[], None],
        on_closed: Callable[[MediaRoom], None],
    ) -> None:
        self.id = room_id
        self._settings = settings
        self._on_observation = on_observation
        self._on_subscriber_offer = on_subscriber_offer
        self._spawn_in_plane = spawn
        self._watch_cameras = watch_cameras
        self._on_closed = on_closed
        self._participants: dict[str, RoomParticipant] = {}
        self._gates: dict[tuple[str, Source], Gate] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Pipes to and from other nodes, by pipe id (``room_pipes``).
        self._pipes: dict[str, PipeSender | PipeReceiver] = {}
        self._closed = False
        self._speakers: tuple[str, ...] = ()  # as last reported (``tick_speaking``)

    def __repr__(self) -> str:  # meeting ids are secrets: never log a whole one
        return f"<MediaRoom {self.id[:8]}... of {len(self._participants)}>"

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ admission

    def admit(self, participant_id: str) -> None:
        """From now on this participant may publish and subscribe here (idempotent)."""
        if self._closed:
            raise MediaError("closed", _ROOM_CLOSED)
        if participant_id not in self._participants:
            self._participants[participant_id] = RoomParticipant(participant_id)

    def is_admitted(self, participant_id: str) -> bool:
        return participant_id in self._participants

    def _admitted(self, participant_id: str) -> RoomParticipant:
        if self._closed:
            raise MediaError("closed", _ROOM_CLOSED)
        participant = self._participants.get(participant_id)
        if participant is None:
            raise MediaError("not_admitted", _NOT_ADMITTED)
        return participant

    def _gone(self) -> MediaError:
        """The refusal for an admission that ended while a request was under way."""
        if self._closed:
            return MediaError("closed", _ROOM_CLOSED)
        return MediaError("not_admitted", _NOT_ADMITTED)

    # ------------------------------------------------------------------ gates and tracks

    def _gate(self, participant_id: str, source: Source) -> Gate:
        gate = self._gates.get((participant_id, source))
        if gate is None:
            gate = self._gates[(participant_id, source)] = Gate()
        return gate

    def _gate_of(self, participant: RoomParticipant, source: Source) -> Gate:
        if participant.closed:  # a track negotiated after the close: closed, and in no table
            return Gate()
        return self._gate(participant.id, source)

    def _track(self, participant_id: str, source: Source) -> PublishedTrack | None:
        participant = self._participants.get(participant_id)
        if participant is None or participant.publisher is None:
            return None
        return participant.publisher.track_of(source)

    # ------------------------------------------------------------------ the subscribers' side

    @abstractmethod
    def _renegotiate_all(self, except_id: str) -> None:
        """Offer every subscriber but ``except_id`` the room's tracks anew (room_subscribing)."""

    # ------------------------------------------------------------------ other nodes

    def _remote_tracks(self) -> list[PublishedTrack]:
        """Tracks piped in from other nodes, offered as this room's (``room_pipes``)."""
        return []

    def _pipe_added(self, track: PublishedTrack) -> None:
        """``track`` was published: the pipes that follow the room carry it."""

    def _pipe_gate_closed(self, track: PublishedTrack) -> None:
        """A gate closed: the nodes ``track`` is piped to forget what they cached."""

    def _unpipe(self, track: PublishedTrack) -> None:
        """``track`` ended: the nodes it is piped to lose it."""

    # ------------------------------------------------------------------ helpers

    def _release(self, pc: RTCPeerConnection) -> None:
        self._spawn(release_peer_connection(pc))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = self._spawn_in_plane(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit(self, observation: Observation) -> None:
        try:
            self._on_observation(observation)
        except Exception:
            logger.exception("on_observation of %r raised for %r", self, observation)
