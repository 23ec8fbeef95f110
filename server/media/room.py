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

The room is four parts over one scope: ``room_scope`` (the participants
admitted, the gates, the background work), ``room_publishing`` (answering
offers, the tracks they add and end), ``room_subscribing`` (offering each
subscriber the room's tracks) and ``room_pipes`` (its tracks to and from other
nodes: a meeting larger than one node). This module puts them together and holds what
the runtime drives from outside: the gates, leaving and closing, the camera
ticks, and the counters a test or a benchmark reads.
"""

from __future__ import annotations

import asyncio

from .camera_monitor import CameraMonitor
from .events import Source, SpeakersChanged, TrackEnded, source_of
from .forwarder import PublishedTrack
from .room_pipes import RoomPipes
from .room_publishing import RoomPublishing
from .room_scope import RoomSettings, logger
from .room_subscribing import RoomSubscribing
from .simulcast import SimulcastTrack
from .speaking import speakers
from .subscriber_bandwidth import SubscriberBandwidth
from .track_stats import TrackStats, track_stats_of

__all__ = ["MediaRoom", "RoomSettings"]


class MediaRoom(RoomPublishing, RoomSubscribing, RoomPipes):
    """One meeting's publishers, subscribers, gates and observations.

    Made by ``MediaPlane.room``; the plane passes what the process shares:
    ``spawn`` (its background task set), ``watch_cameras`` (starts its ticker,
    which calls ``tick_cameras``) and ``on_closed`` (it forgets the room).
    """

    # ------------------------------------------------------------------ gates

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
                self._pipe_gate_closed(track)

    def gate_is_open(self, participant_id: str, source: Source | str) -> bool:
        gate = self._gates.get((participant_id, source_of(source)))
        return gate is not None and gate.open

    # ------------------------------------------------------------------ camera

    def tick_cameras(self) -> None:
        """One report interval passed (the plane's ticker): every camera monitor ticks."""
        for participant in list(self._participants.values()):
            participant.tick_cameras()

    # ------------------------------------------------------------------ speaking

    def tick_speaking(self, window_ms: float) -> None:
        """A speaking window ended (the plane's ticker): report who speaks, if it changed.

        Only admitted participants' microphones are read, each with its gate: a closed
        gate is silence (``speaking.speakers``)."""
        meters = []
        for participant_id, participant in self._participants.items():
            publisher = participant.publisher
            track = publisher.track_of("microphone") if publisher is not None else None
            if track is not None and track.level is not None and not track.ended:
                meters.append((participant_id, track.gate.open, track.level))
        now = speakers(meters, window_ms)
        if now != self._speakers:
            self._speakers = now
            self._emit(SpeakersChanged(now))

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
            self._unpipe(track)
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
        self._close_pipes()
        self._on_closed(self)

    async def close(self) -> None:
        """``close_nowait``, then wait until every connection is released."""
        self.close_nowait()
        await self.settled()

    async def settled(self) -> None:
        """Wait until this room's background work (releases, renegotiations) is done."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    # ------------------------------------------------------------------ stats

    def track_stats(self, participant_id: str, source: Source | str) -> TrackStats | None:
        """Counters of a published track of this room, or None if it is not published."""
        track = self._track(participant_id, source_of(source))
        return None if track is None else track_stats_of(track)

    def camera_monitor(self, participant_id: str) -> CameraMonitor | None:
        participant = self._participants.get(participant_id)
        return participant.camera_monitor() if participant is not None else None

    def describe(self) -> list[str]:
        """One line per connection, for an operator (``MediaPlane.describe``)."""
        lines = []
        for participant_id, participant in self._participants.items():
            publisher = participant.publisher
            if publisher is not None:
                tracks = ", ".join(
                    f"{track.source}: {_received(track)}"
                    f"{' (ended)' if track.ended else ''}, to {len(track.downs)}"
                    for track in publisher.tracks.values()
                )
                state = publisher.pc.connectionState
                lines.append(f"publisher {participant_id}: {state}; {tracks or 'no tracks'}")
            if participant.subscriber is not None:
                lines.append(participant.subscriber.describe())
        return lines

    def subscriber_bandwidth(self, participant_id: str) -> SubscriberBandwidth | None:
        """A subscriber's bandwidth estimate and paused streams, or None if not subscribed."""
        participant = self._participants.get(participant_id)
        subscriber = participant.subscriber if participant is not None else None
        return subscriber.bandwidth if subscriber is not None else None


def _received(track: PublishedTrack) -> str:
    """The packets a published track received: a simulcast track's, layer by layer."""
    if isinstance(track, SimulcastTrack):
        layers = ", ".join(f"{rid} {layer.packets_received}" for rid, layer in track.layers.items())
        return f"{layers or 'no layer yet'} received"
    return f"{track.packets_received} received"
