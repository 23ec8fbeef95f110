"""A media room's pipes to and from other nodes: one meeting larger than one node.

A meeting lives on one node (A), where its policy decides and its gates are; a
node with more of its viewers (B) gets each published track once, through a
pipe, and forwards it to its own viewers (cascading, as mediasoup's
``pipeToRouter`` and LiveKit's relay do). The signalling between nodes carries
two messages, both JSON:

1. B: ``open_pipe(peer_host)`` returns a ``PipeOffer`` (``to_json``: pipe id, B's
   UDP address, the pipe's secret); it is sent to A.
2. A: ``pipe_to(participant_id, source, offer)`` for each track B's viewers need, or
   ``pipe_all_to(offer)`` for every track published now and later (the cluster's
   cascade, server/cascade/); ``close_pipe(pipe_id, participant_id, source)`` stops
   one, ``close_pipe(pipe_id)`` the whole pipe (either end).

On B, each piped track is a track of this room like a local one: every
subscriber is offered it (renegotiation as for a local publisher), and
``on_change(participant_id, source, present)`` says so to whoever opened the
pipe. A gate closed at A stops the track at A, for B too (``pipe_sender``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from .errors import MediaError
from .events import Source, source_of
from .forwarder import PublishedTrack
from .pipe_receiver import PipeReceiver
from .pipe_sender import PipeSender
from .pipe_wire import PipeOffer
from .room_scope import RoomScope, logger

__all__ = ["PipeChange", "RoomPipes"]

PipeChange = Callable[[str, Source, bool], None]
"""(participant id, source, present): a remote track appeared at this node, or ended."""


class RoomPipes(RoomScope):
    """The room's pipes: receiving ends (this node views) and sending ends (it publishes)."""

    async def open_pipe(
        self, peer_host: str, *, host: str = "127.0.0.1", on_change: PipeChange | None = None
    ) -> PipeOffer:
        """Receive tracks of this meeting from the node at ``peer_host`` (B's side).

        Binds a UDP port on ``host`` (this node's address on the network between
        nodes) and returns where A must send, with the pipe's secret."""
        if self._closed:
            raise MediaError("closed", "This meeting's media has ended.")

        def added(track: PublishedTrack) -> None:
            self._remote_changed(track, True, on_change)

        def removed(track: PublishedTrack) -> None:
            self._remote_changed(track, False, on_change)

        receiver = PipeReceiver(
            secrets.token_hex(8),
            peer_host,
            keyframe_interval=self._settings.keyframe_interval,
            replay_limit=self._settings.replay_limit,
            loss_repair=self._settings.loss_repair,
            on_added=added,
            on_removed=removed,
        )
        offer = await receiver.start(host)
        if self._closed:
            receiver.close()
            raise MediaError("closed", "This meeting's media has ended.")
        self._pipes[offer.pipe_id] = receiver
        return offer

    async def pipe_to(
        self,
        participant_id: str,
        source: Source | str,
        offer: PipeOffer,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        """Send a published track of this room to the node that made ``offer`` (A's side).

        The first track for an offer opens the pipe's socket on ``host`` (the address
        B was told in ``open_pipe``). Raises MediaError("not_published") if the track
        is not published here. A simulcast track is piped as its largest layer sent
        (``pipe_sender``)."""
        track = self._track(participant_id, source_of(source))
        if track is None or track.ended:
            raise MediaError("not_published", "That track is not published in this meeting.")
        pipe = await self._sender(offer, host)
        if track.ended or self._closed:  # ended during the await
            raise MediaError("not_published", "That track is not published in this meeting.")
        pipe.add(track)

    async def pipe_all_to(self, offer: PipeOffer, *, host: str = "127.0.0.1") -> int:
        """Send every published track of this room to the node that made ``offer``, and
        each track published from now on, until the pipe closes (A's side). Tracks that
        end stop being piped by themselves (``_unpipe``). How many tracks are piped now."""
        if self._closed:
            raise MediaError("closed", "This meeting's media has ended.")
        pipe = await self._sender(offer, host)
        if self._closed:  # closed during the await (the pipe closed with the room)
            raise MediaError("closed", "This meeting's media has ended.")
        pipe.follows_room = True
        for participant in list(self._participants.values()):
            for track in participant.published():
                self._pipe_added(track)
        return len(pipe.downs)

    async def _sender(self, offer: PipeOffer, host: str) -> PipeSender:
        """The sending end of ``offer``'s pipe; the first use opens its socket on ``host``."""
        pipe = self._pipes.get(offer.pipe_id)
        if pipe is None:
            pipe = PipeSender(offer)
            self._pipes[offer.pipe_id] = pipe
            await pipe.start(host)
        if not isinstance(pipe, PipeSender) or pipe.closed:
            raise MediaError("not_piped", "That pipe does not send from this node.")
        return pipe

    def close_pipe(
        self, pipe_id: str, participant_id: str | None = None, source: Source | str | None = None
    ) -> None:
        """Stop piping one track (A, with ``participant_id`` and ``source``), or close the
        whole pipe, either end: at B its remote tracks end at once."""
        pipe = self._pipes.get(pipe_id)
        if pipe is None:
            return
        if participant_id is not None and source is not None:
            track = self._track(participant_id, source_of(source))
            if isinstance(pipe, PipeSender) and track is not None:
                pipe.remove(track)
            return
        del self._pipes[pipe_id]
        pipe.close()

    def pipe_stats(self, pipe_id: str) -> dict[str, int] | None:
        """One pipe's counters (packets, and what its guard dropped), or None."""
        pipe = self._pipes.get(pipe_id)
        return None if pipe is None else pipe.stats()

    def remote_track(self, participant_id: str, source: Source | str) -> PublishedTrack | None:
        """A track piped in from another node, by its publisher and source (for stats)."""
        wanted = source_of(source)
        for track in self._remote_tracks():
            if track.participant_id == participant_id and track.source == wanted:
                return track
        return None

    # ------------------------------------------------------------------ the room's side

    def _remote_tracks(self) -> list[PublishedTrack]:
        tracks: list[PublishedTrack] = []
        for pipe in self._pipes.values():
            if isinstance(pipe, PipeReceiver):
                tracks.extend(pipe.tracks())
        return tracks

    def _remote_changed(
        self, track: PublishedTrack, present: bool, on_change: PipeChange | None
    ) -> None:
        if on_change is not None:
            try:
                on_change(track.participant_id, track.source, present)
            except Exception:
                logger.exception("on_change of a pipe of %r raised", self)
        self._renegotiate_all(except_id="")

    def _pipe_added(self, track: PublishedTrack) -> None:
        if track.ended:
            return
        for pipe in self._pipes.values():
            if isinstance(pipe, PipeSender) and pipe.follows_room and not pipe.closed:
                pipe.add(track)

    def _pipe_gate_closed(self, track: PublishedTrack) -> None:
        for pipe in self._pipes.values():
            if isinstance(pipe, PipeSender):
                pipe.gate_closed(track)

    def _unpipe(self, track: PublishedTrack) -> None:
        for pipe in self._pipes.values():
            if isinstance(pipe, PipeSender):
                pipe.remove(track)

    def _close_pipes(self) -> None:
        pipes, self._pipes = list(self._pipes.values()), {}
        for pipe in pipes:
            pipe.close()
