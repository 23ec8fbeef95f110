"""A media room's publishing side: answering offers, and the tracks they add and end.

A publisher's tracks are forwarded through the gates of the room's scope
(``room_scope.py``); when a publisher's tracks change, every other subscriber
of the room is offered them anew (``room_subscribing.py``), and a camera track
gets a monitor. A ``publish`` suspended in an await when its participant
leaves ends what the await created and raises (``room.py`` explains leaving).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import MediaError
from .events import (
    ConnectionFailed,
    ConnectionFailedReason,
    Source,
    TrackEnded,
    TrackEndedReason,
    TrackPublished,
    source_of,
)
from .forwarder import PublishedTrack
from .participant import RoomParticipant
from .publisher import PublisherConnection
from .publisher_remb import RembTrack
from .room_scope import RoomScope

__all__ = ["RoomPublishing"]


class RoomPublishing(RoomScope):
    """The room's publishing connections: one per admitted participant, at most."""

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
            self._pipe_added(track)
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
            loss_repair=self._settings.loss_repair,
            viewer_bitrate=self._viewer_bitrate if self._settings.bandwidth_control else None,
            bandwidth=self._subscriber_bandwidth,
            tiles=lambda subscriber_id, source: self._tile_size(
                subscriber_id, participant.id, source
            ),
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

    def _viewer_bitrate(self, track: RembTrack) -> int | None:
        """The most any subscriber of ``track`` can take of it (``publisher_remb``); None if
        one has no limit known, or nobody subscribes."""
        most = None
        for participant in self._participants.values():
            subscriber = participant.subscriber
            if subscriber is None:
                continue
            forwarded = subscriber.forwarded()
            if not any(forwarded_track is track for forwarded_track, _ in forwarded):
                continue
            share = subscriber.bandwidth.video_share(forwarded)
            if share is None:
                return None
            most = share if most is None else max(most, share)
        return most

    def _subscriber_bandwidth(self, participant_id: str) -> int | None:
        """What a subscriber can take of each of its video streams, or None when unknown
        (``subscriber_bandwidth.video_share``): it caps the simulcast layer each of its
        tiles gets (``layer_choice``)."""
        participant = self._participants.get(participant_id)
        subscriber = None if participant is None else participant.subscriber
        if subscriber is None or not self._settings.bandwidth_control:
            return None
        return subscriber.bandwidth.video_share(subscriber.forwarded())

    def _tile_size(
        self, subscriber_id: str, publisher_id: str, source: Source
    ) -> tuple[int, int] | None:
        subscriber = self._participants.get(subscriber_id)
        return None if subscriber is None else subscriber.tiles.get((publisher_id, source))

    def _on_first_packet(self, track: PublishedTrack) -> None:
        self._emit(TrackPublished(track.participant_id, track.source))

    def _track_ended(
        self, participant: RoomParticipant, track: PublishedTrack, reason: TrackEndedReason
    ) -> None:
        participant.unwatch(track)
        self._unpipe(track)
        self._emit(TrackEnded(track.participant_id, track.source, reason))

    # ------------------------------------------------------------------ camera

    def _watch_camera(self, participant: RoomParticipant, track: PublishedTrack) -> None:
        participant.watch_camera(track, self._settings.camera_check, self._emit)
        self._watch_cameras()
