"""A media room: one meeting's scope of the media plane.

Who may publish and subscribe, their connections, gates and camera monitors,
and so the forwarding tables, live in the room and nowhere else: a subscriber
is offered this room's tracks only, observations and offers go to this room's
callbacks only, and nothing here can reach another room (two rooms may even
hold the same participant id). Galène's group and LiveKit's room are the same
scope (DESIGN.md, "The Room"); the process shares only the transport, through
``MediaPlane``. The room applies effects and asks nothing of the policy
(STYLE.md). All methods run on the event loop (asyncio or uvloop).

Gates are keyed by (participant, source) and exist from admission on, before the
track does, so "muted on entry" is simply a gate nobody opened: every gate starts
closed, and a participant who is not admitted has no gates to open.

Leaving is synchronous: ``close_participant`` stops all forwarding to and from a
participant before it returns (the runtime's effect interpreter never waits on a
slow peer) and releases the peer connections in the background. A ``publish`` or
``subscribe`` suspended in an await at that moment finds its participant closed
when it resumes (every await is followed by that check), ends what the await
created and raises ``not_admitted``.

A connection that fails (ICE, DTLS), is lost, or does not connect within the
connect timeout is reported as ``ConnectionFailed`` (the runtime tells the
participant) and released like one that is closed (``connection_watch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection

from .aiortc_seam import release_peer_connection
from .camera_monitor import CameraCheck, CameraMonitor
from .errors import MediaError
from .events import (
    ConnectionFailed,
    ConnectionFailedReason,
    Observation,
    Source,
    TrackEnded,
    TrackEndedReason,
    TrackPublished,
    source_of,
)
from .forwarder import Gate, PublishedTrack
from .participant import RoomParticipant
from .publisher import PublisherConnection
from .subscriber import SubscriberConnection, SubscriberOffer
from .track_stats import TrackStats, track_stats_of

__all__ = ["MediaRoom", "RoomSettings"]

logger = logging.getLogger(__name__)

_NOT_ADMITTED = "Media is only for participants admitted to this meeting."
_ROOM_CLOSED = "This meeting's media has ended."


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """The process-wide settings a plane gives each of its rooms."""

    camera_check: CameraCheck
    keyframe_interval: float
    replay_limit: int
    connect_timeout: float


class MediaRoom:
    """One meeting's publishers, subscribers, gates and observations.

    Made by ``MediaPlane.room``; the plane passes what the process shares:
    ``spawn`` (its background task set), ``watch_cameras`` (starts its ticker,
    which calls ``tick_cameras``) and ``on_closed`` (it forgets the room).
    """

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
        self._closed = False

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

    # ------------------------------------------------------------------ publishing

    async def publish(
        self, participant_id: str, offer_sdp: str, sources: Mapping[str, Source | str]
    ) -> str:
        """Answer an admitted participant's (re-)offer of its publishing connection.

        ``sources`` maps each sending m-line's mid to its source, as the server
        decided for this negotiation. Raises MediaError on a refused or bad offer;
        a refusal leaves an existing connection as it was, any other failure
        releases it (its tracks end).
        """
        participant = self._admitted(participant_id)
        checked = {mid: source_of(source) for mid, source in sources.items()}
        async with participant.lock:
            if participant.closed:  # left while an earlier negotiation held the lock
                raise self._gone()
            publisher = participant.publisher
            fresh = publisher is None
            if publisher is None:
                publisher = self._new_publisher(participant)
            pc_state = publisher.pc.signalingState
            try:
                answer, added, ended = await publisher.negotiate(offer_sdp, checked)
            except MediaError as error:
                if participant.closed:  # close_participant took the connection and releases it
                    publisher.end_all()
                    raise self._gone() from error
                if fresh or publisher.pc.signalingState != pc_state:
                    self._drop_publisher(participant, publisher, "unpublished")
                raise
            if participant.closed:
                # close_participant ran during the negotiation and took the connection; the
                # tracks the negotiation added after that end here, never forwarded.
                publisher.end_all()
                raise self._gone()
        for track in ended:
            self._track_ended(participant, track, "unpublished")
        for track in added:
            if track.source == "camera":
                self._watch_camera(participant, track)
        if added or ended:
            self._renegotiate_all(except_id=participant_id)
        return answer

    def _new_publisher(self, participant: RoomParticipant) -> PublisherConnection:
        publisher = PublisherConnection(
            participant.id,
            gate_of=lambda source: self._gate_of(participant, source),
            on_first_packet=self._on_first_packet,
            keyframe_interval=self._settings.keyframe_interval,
            replay_limit=self._settings.replay_limit,
            connect_timeout=self._settings.connect_timeout,
        )

        def failed(reason: ConnectionFailedReason) -> None:
            if participant.publisher is publisher:
                self._emit(ConnectionFailed(participant.id, "publish", reason))
                self._drop_publisher(participant, publisher, "connection_lost")

        publisher.watch.on_failed = failed
        participant.publisher = publisher
        return publisher

    def _drop_publisher(
        self, participant: RoomParticipant, publisher: PublisherConnection, reason: TrackEndedReason
    ) -> None:
        if participant.publisher is not publisher:
            return  # already dropped, closed or replaced
        participant.publisher = None
        ended = publisher.end_all()
        for track in ended:
            self._track_ended(participant, track, reason)
        if ended:
            self._renegotiate_all(except_id=participant.id)
        self._release(publisher.pc)

    def _on_first_packet(self, track: PublishedTrack) -> None:
        self._emit(TrackPublished(track.participant_id, track.source))

    def _track_ended(
        self, participant: RoomParticipant, track: PublishedTrack, reason: TrackEndedReason
    ) -> None:
        participant.unwatch(track)
        self._emit(TrackEnded(track.participant_id, track.source, reason))

    # ------------------------------------------------------------------ gates

    def _gate(self, participant_id: str, source: Source) -> Gate:
        gate = self._gates.get((participant_id, source))
        if gate is None:
            gate = self._gates[(participant_id, source)] = Gate()
        return gate

    def _gate_of(self, participant: RoomParticipant, source: Source) -> Gate:
        if participant.closed:  # a track negotiated after the close: closed, and in no table
            return Gate()
        return self._gate(participant.id, source)

    def set_gate(self, participant_id: str, source: Source | str, open: bool) -> None:
        """Open or close one source of one participant; applies to the very next packet.

        Opening a video gate asks the publisher for a keyframe; subscribers resume on
        it. A participant who is not admitted has only closed gates: the call is
        ignored, so a late "open" can never outlive a ``close_participant``.
        """
        source = source_of(source)
        if participant_id not in self._participants:
            logger.debug("gate of a participant not admitted to %r left closed", self)
            return
        gate = self._gate(participant_id, source)
        if gate.open == open:
            return
        gate.open = open
        track = self._track(participant_id, source)
        if track is not None:
            if open:
                track.gate_opened()
            else:
                track.gate_closed()

    def gate_is_open(self, participant_id: str, source: Source | str) -> bool:
        gate = self._gates.get((participant_id, source_of(source)))
        return gate is not None and gate.open

    # ------------------------------------------------------------------ subscribing

    async def subscribe(self, participant_id: str) -> SubscriberOffer:
        """Create (or rebuild) the subscribing connection; returns the server's offer."""
        participant = self._admitted(participant_id)
        if participant.subscriber is not None:
            self._drop_subscriber(participant, participant.subscriber)
        subscriber = SubscriberConnection(participant_id, self._settings.connect_timeout)
        participant.subscriber = subscriber

        def failed(reason: ConnectionFailedReason) -> None:
            if participant.subscriber is subscriber:
                self._emit(ConnectionFailed(participant.id, "subscribe", reason))
                self._drop_subscriber(participant, subscriber)

        subscriber.watch.on_failed = failed

        async with subscriber.lock:
            try:
                offer = await subscriber.make_offer(self._tracks_for(participant_id))
            except Exception as error:  # closed meanwhile: say so, not what aiortc raised
                self._still_subscribed(participant, subscriber, error)
                raise
        self._still_subscribed(participant, subscriber)
        return offer

    def _still_subscribed(
        self,
        participant: RoomParticipant,
        subscriber: SubscriberConnection,
        cause: BaseException | None = None,
    ) -> None:
        """Raise if the subscription ended during the last await (which raised ``cause``)."""
        if participant.closed:
            raise self._gone() from cause
        if subscriber.closed:
            replaced = "A newer subscription replaced this one."
            raise MediaError("subscription_replaced", replaced) from cause

    async def subscriber_answer(self, participant_id: str, answer_sdp: str) -> None:
        """Apply the client's answer to the latest subscriber offer."""
        participant = self._admitted(participant_id)
        subscriber = participant.subscriber
        if subscriber is None:
            raise MediaError("not_subscribed", "Subscribe before answering.")
        async with subscriber.lock:
            self._still_subscribed(participant, subscriber)
            try:
                await subscriber.apply_answer(answer_sdp)
            except MediaError as error:
                self._still_subscribed(participant, subscriber, error)
                raise
            self._still_subscribed(participant, subscriber)
        if subscriber.dirty:
            self._spawn(self._renegotiate(subscriber))

    def _tracks_for(self, participant_id: str) -> list[PublishedTrack]:
        """Every track of this room's other publishers: the only tracks it may offer."""
        tracks: list[PublishedTrack] = []
        for other in self._participants.values():
            if other.id != participant_id:
                tracks.extend(other.published())
        return tracks

    def _renegotiate_all(self, except_id: str) -> None:
        if self._closed:
            return
        for participant in self._participants.values():
            if participant.id != except_id and participant.subscriber is not None:
                participant.subscriber.dirty = True
                self._spawn(self._renegotiate(participant.subscriber))

    async def _renegotiate(self, subscriber: SubscriberConnection) -> None:
        offer = await subscriber.renegotiate(lambda: self._tracks_for(subscriber.participant_id))
        if offer is not None and self._on_subscriber_offer is not None:
            try:
                self._on_subscriber_offer(subscriber.participant_id, offer)
            except Exception:
                logger.exception("on_subscriber_offer of %r raised", self)

    def _drop_subscriber(
        self, participant: RoomParticipant, subscriber: SubscriberConnection
    ) -> None:
        if participant.subscriber is subscriber:
            participant.subscriber = None
        if not subscriber.closed:
            subscriber.stop_forwarding()
            self._release(subscriber.pc)

    # ------------------------------------------------------------------ camera

    def _watch_camera(self, participant: RoomParticipant, track: PublishedTrack) -> None:
        participant.watch_camera(track, self._settings.camera_check, self._emit)
        self._watch_cameras()

    def tick_cameras(self) -> None:
        """One report interval passed (the plane's ticker): every camera monitor ticks."""
        for participant in list(self._participants.values()):
            participant.tick_cameras()

    # ------------------------------------------------------------------ leaving

    def close_participant(self, participant_id: str) -> None:
        """End all media to and from a participant now; release its connections later.

        When this returns nothing of the participant is forwarded to or from anyone,
        its gates are closed and forgotten, it is no longer admitted, and the other
        subscribers are being offered their tracks without its own.
        """
        participant = self._participants.pop(participant_id, None)
        if participant is None:
            return
        ended, connections = participant.leave()
        for key in [key for key in self._gates if key[0] == participant_id]:
            self._gates.pop(key).open = False  # a stale reference reads closed too
        # Nothing of this participant is forwarded from here on; the rest is cleanup.
        for track in ended:
            self._emit(TrackEnded(participant_id, track.source, "participant_closed"))
        if ended:
            self._renegotiate_all(except_id=participant_id)
        for pc in connections:
            self._release(pc)

    def close_nowait(self) -> None:
        """Close every participant now and refuse everything from here on (``closed``)."""
        if self._closed:
            return
        self._closed = True
        for participant_id in list(self._participants):
            self.close_participant(participant_id)
        self._on_closed(self)

    async def close(self) -> None:
        """``close_nowait``, then wait until every connection is released."""
        self.close_nowait()
        await self.settled()

    async def settled(self) -> None:
        """Wait until this room's background work (releases, renegotiations) is done."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

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

    def _track(self, participant_id: str, source: Source) -> PublishedTrack | None:
        participant = self._participants.get(participant_id)
        if participant is None or participant.publisher is None:
            return None
        return participant.publisher.track_of(source)

    def track_stats(self, participant_id: str, source: Source | str) -> TrackStats | None:
        """Counters of a published track of this room, or None if it is not published."""
        track = self._track(participant_id, source_of(source))
        return None if track is None else track_stats_of(track)

    def camera_monitor(self, participant_id: str) -> CameraMonitor | None:
        participant = self._participants.get(participant_id)
        return participant.camera_monitor() if participant is not None else None
