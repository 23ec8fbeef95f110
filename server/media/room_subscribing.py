"""A media room's subscribing side: offering each subscriber this room's tracks, and no other.

A subscriber is offered the tracks of the room's other publishers only
(``_tracks_for``), and offered them anew whenever they change. A
``subscribe`` suspended in an await when its participant leaves, or when a
newer subscription replaces it, says so rather than what aiortc raised
(``room.py`` explains leaving).
"""

from __future__ import annotations

from .errors import MediaError
from .events import ConnectionFailed, ConnectionFailedReason, VideoPaused
from .forwarder import PublishedTrack
from .participant import RoomParticipant
from .room_scope import RoomScope, logger
from .simulcast import SimulcastTrack
from .subscriber import SubscriberConnection, SubscriberOffer

__all__ = ["RoomSubscribing"]

_MAX_TILES = 256  # (publisher, source) pairs one subscriber may give a size for


class RoomSubscribing(RoomScope):
    """The room's subscribing connections: one per admitted participant, at most."""

    async def subscribe(self, participant_id: str) -> SubscriberOffer:
        """Create (or rebuild) the subscribing connection; returns the server's offer."""
        participant = self._admitted(participant_id)
        if participant.subscriber is not None:
            self._drop_subscriber(participant, participant.subscriber)
        subscriber = SubscriberConnection(
            participant_id, self._settings.connect_timeout, self._settings.bandwidth_control
        )
        participant.subscriber = subscriber

        def failed(reason: ConnectionFailedReason) -> None:
            if participant.subscriber is subscriber:
                self._emit(ConnectionFailed(participant.id, "subscribe", reason))
                self._drop_subscriber(participant, subscriber)

        subscriber.watch.on_failed = failed

        def paused(track: PublishedTrack, now_paused: bool) -> None:
            if participant.subscriber is subscriber:
                self._emit(
                    VideoPaused(participant.id, track.participant_id, track.source, now_paused)
                )

        subscriber.bandwidth.on_change = paused

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

    def set_tile_size(
        self, participant_id: str, publisher_id: str, source: str, width: int, height: int
    ) -> None:
        """The size a subscriber shows a forwarded video at: it chooses the simulcast layer."""
        participant = self._admitted(participant_id)
        subscriber = participant.subscriber
        if subscriber is None:
            raise MediaError("not_subscribed", "Subscribe before sending tile sizes.")
        key = (publisher_id, source)
        if key in participant.tiles or len(participant.tiles) < _MAX_TILES:
            participant.tiles[key] = (width, height)
        track = next(
            (
                t
                for t in subscriber.forwarded_tracks()
                if t.participant_id == publisher_id and t.source == source
            ),
            None,
        )
        # A track not forwarded (it ended as the tile resized, say) or sent in one layer only
        # has nothing to choose: the size is ignored, never an error to show.
        if isinstance(track, SimulcastTrack):
            track.retile(participant_id)

    def _tracks_for(self, participant_id: str) -> list[PublishedTrack]:
        """Every track of this room's other publishers, here or piped in from another
        node (``room_pipes``): the only tracks it may offer."""
        tracks: list[PublishedTrack] = []
        for other in self._participants.values():
            if other.id != participant_id:
                tracks.extend(other.published())
        tracks.extend(t for t in self._remote_tracks() if t.participant_id != participant_id)
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
