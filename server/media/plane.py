"""The media plane: the one object the meeting runtime drives.

It opens and closes gates when told and reports what it observes; it asks
nothing of the policy (STYLE.md: "media code only applies effects"). One per
server process. All methods run on the event loop (asyncio or uvloop).

Gates are keyed by (participant, source) and exist before the track does, so
"muted on entry" is simply a gate nobody opened: every gate starts closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .aiortc_seam import install_transport_guards, release_peer_connection, restrict_host_addresses
from .camera_monitor import CameraCheck, CameraMonitor
from .errors import MediaError
from .events import Observation, Source, TrackEnded, TrackEndedReason, TrackPublished, source_of
from .forwarder import Gate, PublishedTrack
from .publisher import PublisherConnection
from .subscriber import SubscriberConnection, SubscriberOffer

__all__ = ["MediaPlane", "TrackStats"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrackStats:
    """Counters of one published track, for tests, the bench and /metrics."""

    packets_received: int
    packets_dropped: int
    frames: int
    keyframes_seen: int
    keyframe_requests: int
    keyframe_requests_sent: int
    width: int
    height: int
    subscribers: int
    packets_forwarded: int
    packets_retransmitted: int


class _Participant:
    def __init__(self, participant_id: str) -> None:
        self.id = participant_id
        self.publisher: PublisherConnection | None = None
        self.subscriber: SubscriberConnection | None = None
        self.monitors: dict[PublishedTrack, CameraMonitor] = {}
        self.lock = asyncio.Lock()


class MediaPlane:
    """Publishing and subscribing connections, per-track gates, and observations."""

    def __init__(
        self,
        *,
        on_observation: Callable[[Observation], None],
        on_subscriber_offer: Callable[[str, SubscriberOffer], None] | None = None,
        host_addresses: Sequence[str] | None = ("127.0.0.1",),
        camera_check: CameraCheck | None = None,
        keyframe_interval: float = 0.5,
        replay_limit: int = 300,
        connect_timeout: float = 15.0,
    ) -> None:
        """``host_addresses`` None gathers on every interface; anything else restricts
        ICE host candidates process-wide (aioice has no per-connection setting)."""
        install_transport_guards()
        if host_addresses is not None:
            restrict_host_addresses(host_addresses)
        self._on_observation = on_observation
        self._on_subscriber_offer = on_subscriber_offer
        self._camera_check = camera_check or CameraCheck()
        self._keyframe_interval = keyframe_interval
        self._replay_limit = replay_limit
        self._connect_timeout = connect_timeout
        self._participants: dict[str, _Participant] = {}
        self._gates: dict[tuple[str, Source], Gate] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._closed = False

    # ------------------------------------------------------------------ publishing

    async def publish(
        self, participant_id: str, offer_sdp: str, sources: Mapping[str, Source | str]
    ) -> str:
        """Answer a participant's (re-)offer of its publishing connection.

        ``sources`` maps each sending m-line's mid to its source, as the server
        decided for this negotiation. Raises MediaError on a refused or bad offer;
        a refusal leaves an existing connection as it was, any other failure
        releases it (its tracks end).
        """
        participant = self._participant(participant_id)
        checked = {mid: source_of(source) for mid, source in sources.items()}
        async with participant.lock:
            publisher = participant.publisher
            fresh = publisher is None
            if publisher is None:
                publisher = PublisherConnection(
                    participant_id,
                    gate_of=lambda source: self._gate(participant_id, source),
                    on_first_packet=self._on_first_packet,
                    keyframe_interval=self._keyframe_interval,
                    replay_limit=self._replay_limit,
                )
                self._watch_publisher(participant, publisher)
                participant.publisher = publisher
            pc_state = publisher.pc.signalingState
            try:
                answer, added, ended = await publisher.negotiate(offer_sdp, checked)
            except MediaError:
                untouched = publisher.pc.signalingState == pc_state
                if fresh or not untouched:
                    await self._drop_publisher(participant, "unpublished")
                raise
        for track in ended:
            self._track_ended(participant, track, "unpublished")
        for track in added:
            if track.source == "camera":
                self._watch_camera(participant, track)
        if added or ended:
            self._renegotiate_all(except_id=participant_id)
        return answer

    def _watch_publisher(self, participant: _Participant, publisher: PublisherConnection) -> None:
        @publisher.pc.on("connectionstatechange")
        def on_state() -> None:
            lost = publisher.pc.connectionState in ("failed", "closed")
            if lost and participant.publisher is publisher:
                self._spawn(self._drop_publisher(participant, "connection_lost"))

    async def _drop_publisher(self, participant: _Participant, reason: TrackEndedReason) -> None:
        publisher, participant.publisher = participant.publisher, None
        if publisher is None:
            return
        ended = publisher.end_all()
        for track in ended:
            self._track_ended(participant, track, reason)
        if ended:
            self._renegotiate_all(except_id=participant.id)
        await release_peer_connection(publisher.pc)

    def _on_first_packet(self, track: PublishedTrack) -> None:
        self._emit(TrackPublished(track.participant_id, track.source))

    def _track_ended(
        self, participant: _Participant, track: PublishedTrack, reason: TrackEndedReason
    ) -> None:
        monitor = participant.monitors.pop(track, None)
        if monitor is not None:
            monitor.close()
        self._emit(TrackEnded(track.participant_id, track.source, reason))

    # ------------------------------------------------------------------ gates

    def _gate(self, participant_id: str, source: Source) -> Gate:
        gate = self._gates.get((participant_id, source))
        if gate is None:
            gate = self._gates[(participant_id, source)] = Gate()
        return gate

    def set_gate(self, participant_id: str, source: Source | str, open: bool) -> None:
        """Open or close one source of one participant; applies to the very next packet.

        Opening a video gate asks the publisher for a keyframe; subscribers resume on it.
        """
        source = source_of(source)
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
        participant = self._participant(participant_id)
        if participant.subscriber is not None:
            await self._drop_subscriber(participant)
        subscriber = SubscriberConnection(participant_id, self._connect_timeout)
        participant.subscriber = subscriber

        @subscriber.pc.on("connectionstatechange")
        def on_state() -> None:
            lost = subscriber.pc.connectionState in ("failed", "closed")
            if lost and participant.subscriber is subscriber:
                self._spawn(self._drop_subscriber(participant))

        async with subscriber.lock:
            return await subscriber.make_offer(self._tracks_for(participant_id))

    async def subscriber_answer(self, participant_id: str, answer_sdp: str) -> None:
        """Apply the client's answer to the latest subscriber offer."""
        participant = self._participants.get(participant_id)
        subscriber = participant.subscriber if participant else None
        if subscriber is None:
            raise MediaError("not_subscribed", "Subscribe before answering.")
        async with subscriber.lock:
            await subscriber.apply_answer(answer_sdp)
        if subscriber.dirty:
            self._spawn(self._renegotiate(subscriber))

    def _tracks_for(self, participant_id: str) -> list[PublishedTrack]:
        tracks: list[PublishedTrack] = []
        for other in self._participants.values():
            if other.id != participant_id and other.publisher is not None:
                tracks.extend(other.publisher.tracks.values())
        return tracks

    def _renegotiate_all(self, except_id: str) -> None:
        if self._closed:
            return
        for participant in self._participants.values():
            if participant.id != except_id and participant.subscriber is not None:
                participant.subscriber.dirty = True
                self._spawn(self._renegotiate(participant.subscriber))

    async def _renegotiate(self, subscriber: SubscriberConnection) -> None:
        async with subscriber.lock:
            if not subscriber.dirty or subscriber.closed or self._closed:
                return
            if subscriber.pc.signalingState != "stable":
                return  # the answer to the outstanding offer triggers the next one
            subscriber.dirty = False
            try:
                offer = await subscriber.make_offer(self._tracks_for(subscriber.participant_id))
            except Exception:
                if not subscriber.closed:  # closed meanwhile: nothing to offer to
                    logger.exception("renegotiation of %s failed", subscriber.participant_id)
                return
        if self._on_subscriber_offer is not None and not subscriber.closed:
            self._on_subscriber_offer(subscriber.participant_id, offer)

    async def _drop_subscriber(self, participant: _Participant) -> None:
        subscriber, participant.subscriber = participant.subscriber, None
        if subscriber is None:
            return
        subscriber.stop_forwarding()
        await release_peer_connection(subscriber.pc)

    # ------------------------------------------------------------------ camera

    def _watch_camera(self, participant: _Participant, track: PublishedTrack) -> None:
        participant.monitors[track] = CameraMonitor(track, self._camera_check, self._emit)
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._camera_check.report_interval)
            for participant in list(self._participants.values()):
                for monitor in list(participant.monitors.values()):
                    monitor.tick()

    # ------------------------------------------------------------------ closing

    async def close_participant(self, participant_id: str) -> None:
        """End all media of a participant at once, then release its connections."""
        participant = self._participants.pop(participant_id, None)
        if participant is None:
            return
        for key in [key for key in self._gates if key[0] == participant_id]:
            del self._gates[key]
        subscriber, participant.subscriber = participant.subscriber, None
        if subscriber is not None:
            subscriber.stop_forwarding()
        publisher, participant.publisher = participant.publisher, None
        ended = publisher.end_all() if publisher is not None else []
        # Nothing of this participant is forwarded from here on; the rest is cleanup.
        for track in ended:
            self._track_ended(participant, track, "participant_closed")
        if ended:
            self._renegotiate_all(except_id=participant_id)
        for connection in (subscriber, publisher):
            if connection is not None:
                await release_peer_connection(connection.pc)

    async def close(self) -> None:
        """Close every participant and stop the plane's tasks."""
        self._closed = True
        for participant_id in list(self._participants):
            await self.close_participant(participant_id)
        tasks = list(self._tasks)
        if self._ticker is not None:
            tasks.append(self._ticker)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------ helpers

    def _participant(self, participant_id: str) -> _Participant:
        if self._closed:
            raise MediaError("closed", "The media plane is shutting down.")
        participant = self._participants.get(participant_id)
        if participant is None:
            participant = self._participants[participant_id] = _Participant(participant_id)
        return participant

    def _track(self, participant_id: str, source: Source) -> PublishedTrack | None:
        participant = self._participants.get(participant_id)
        if participant is None or participant.publisher is None:
            return None
        return participant.publisher.track_of(source)

    def _emit(self, observation: Observation) -> None:
        try:
            self._on_observation(observation)
        except Exception:
            logger.exception("on_observation raised for %r", observation)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def track_stats(self, participant_id: str, source: Source | str) -> TrackStats | None:
        """Counters of a published track, or None if it is not published."""
        track = self._track(participant_id, source_of(source))
        if track is None:
            return None
        return TrackStats(
            track.packets_received,
            track.packets_dropped,
            track.frames,
            track.keyframes_seen,
            track.keyframes.requested,
            track.keyframes.sent,
            track.width,
            track.height,
            len(track.downs),
            sum(down.packets for down in track.downs),
            sum(down.retransmitted for down in track.downs),
        )

    def camera_monitor(self, participant_id: str) -> CameraMonitor | None:
        participant = self._participants.get(participant_id)
        track = self._track(participant_id, "camera")
        return participant.monitors.get(track) if participant and track else None
