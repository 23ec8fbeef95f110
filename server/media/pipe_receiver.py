"""The receiving end of a media pipe: another node's tracks, as tracks of this node's room.

On a node with viewers (B), each stream of a pipe becomes a ``PublishedTrack``
like a local publisher's: its own packet cache, loss repair and keyframe
requester, and B's subscribers get ``DownTrack``s on it that rewrite SSRC,
sequence numbers and timestamps per viewer exactly as for a local track
(LiveKit's relay gives a remote node's tracks to local participants the same
way, https://github.com/livekit/livekit/tree/master/pkg/sfu). What a local
publisher would be sent goes back over the pipe instead: a keyframe request
(the track's ``KeyframeRequester`` rate-limits it here, and A's again) and a
NACK for packets lost between the nodes.

The gate is A's: A sends nothing while it is closed and says so at once, and
this end empties the track's cache then, so a viewer joining here later gets
nothing captured before the close. Datagrams from anyone but A, or that fail
the tag, or replay one, are counted and dropped (``pipe_wire.PipeGuard``); a
packet of an epoch that ended is dropped too (``stale``). A pipe that hears
nothing for ``SILENCE_SECONDS`` ends its tracks, as a publisher that is gone.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any, cast

from .events import source_of
from .forwarder import Gate, KeyframeRequester, PublishedTrack
from .pipe_wire import (
    CONTROL,
    MEDIA,
    RETRANSMISSION,
    PipeGuard,
    PipeOffer,
    newer,
    read_control,
    seal_control,
)
from .rtp_packets import parse_rtp

__all__ = ["SILENCE_SECONDS", "PipeReceiver", "RemoteStream"]

logger = logging.getLogger(__name__)

SILENCE_SECONDS = 5.0
_ASK_SECONDS = 0.1
MAX_STREAMS = 512
"""Tracks one pipe may carry: a meeting's worth, with room to spare."""
RECEIVE_BUFFER = 1 << 21
"""Bytes of the pipe socket's receive buffer: a keyframe replayed at a burst fits."""
_KINDS = ("audio", "video")


class RemoteStream:
    """One piped track at this end: the local track it feeds, and its run."""

    __slots__ = ("epoch", "open", "track")

    def __init__(self, track: PublishedTrack, epoch: int, open: bool) -> None:
        self.track = track
        self.epoch = epoch
        self.open = open

    def new_run(self, epoch: int) -> None:
        """A's gate opened (or A resumed after a loss): viewers resume on a keyframe."""
        self.epoch, self.open = epoch, True
        track = self.track
        track.cache.clear()
        if track.repair is not None:
            track.repair.reset()
        for down in track.downs:
            down.resume()

    def close_run(self, epoch: int) -> None:
        """A's gate closed: forget everything cached, take nothing of the run that ended."""
        self.epoch = epoch
        if self.open:
            self.open = False
            self.track.gate_closed()


class PipeReceiver(asyncio.DatagramProtocol):
    """One pipe's receiving end: its socket, and the remote tracks it feeds."""

    def __init__(
        self,
        pipe_id: str,
        peer_host: str,
        *,
        keyframe_interval: float,
        replay_limit: int,
        loss_repair: bool,
        on_added: Callable[[PublishedTrack], None],
        on_removed: Callable[[PublishedTrack], None],
    ) -> None:
        """``peer_host``: the address A sends from (its port is latched from A's first
        authentic datagram). ``on_added`` / ``on_removed``: a remote track appears or
        ends (the room offers it to its viewers, or stops)."""
        self.offer = PipeOffer.new(pipe_id, "", 0)  # its address once bound (``start``)
        self._key = self.offer.key
        self._guard = PipeGuard(self._key, (peer_host, 0))
        self._keyframe_interval = keyframe_interval
        self._replay_limit = replay_limit
        self._loss_repair = loss_repair
        self._on_added = on_added
        self._on_removed = on_removed
        self._transport: asyncio.DatagramTransport | None = None
        self._counter = 0
        self.streams: dict[int, RemoteStream] = {}
        self._asked: dict[int, float] = {}  # stream ids asked about (``_ask_about``)
        self._heard = time.monotonic()
        self._watch: asyncio.Task[None] | None = None
        self.closed = False
        self.unknown_stream = self.stale = self.bad_control = self.errors = 0

    async def start(self, host: str) -> PipeOffer:
        """Bind a fresh UDP port of ``host``; returns the offer A needs (address, secret)."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        assert self._transport is not None
        sock = self._transport.get_extra_info("socket")
        if sock is not None:  # the kernel may cap it (net.core.rmem_max)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        bound_host, port = self._transport.get_extra_info("sockname")[:2]
        self.offer = PipeOffer(self.offer.pipe_id, bound_host, port, self.offer.secret)
        self._watch = asyncio.ensure_future(self._watch_silence())
        return self.offer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is no subclass

    def tracks(self) -> list[PublishedTrack]:
        return [stream.track for stream in self.streams.values() if not stream.track.ended]

    # ------------------------------------------------------------------ receiving

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        opened = self._guard.open(data, addr)
        if opened is None or self.closed:
            return
        self._heard = time.monotonic()
        try:
            self._take(*opened)
        except Exception:  # A's packet is authentic but broke something: drop it, never the pipe
            self.errors += 1
            if self.errors == 1:
                logger.exception("pipe %s: a datagram failed; dropped", self.offer.pipe_id)

    def _take(self, kind: int, epoch: int, body: bytes) -> None:
        if kind == CONTROL:
            self._on_control(read_control(body))
            return
        fields = parse_rtp(body)
        stream = None if fields is None else self.streams.get(fields.ssrc)
        if fields is None or stream is None:
            self.unknown_stream += 1
            if fields is not None:
                self._ask_about(fields.ssrc)
            return
        if kind == MEDIA:
            if newer(epoch, stream.epoch):
                stream.new_run(epoch)
            elif epoch != stream.epoch or not stream.open:
                self.stale += 1
                return
            stream.track.on_rtp(fields)
        elif kind == RETRANSMISSION and epoch == stream.epoch and stream.open:
            stream.track.on_retransmission(fields)

    def _on_control(self, message: dict[str, Any] | None) -> None:
        try:
            if message is None:
                raise ValueError("not a control message")
            op = message["op"]
            if op == "bye":
                self.close()
                return
            stream_id = int(message["stream"])
            stream = self.streams.get(stream_id)
            if op == "track":
                epoch = int(message["epoch"]) & 0xFF
                if stream is None:
                    self._add(stream_id, message, epoch)
                elif not message["open"] and (epoch == stream.epoch or newer(epoch, stream.epoch)):
                    stream.close_run(epoch)
            elif stream is None:
                return
            elif op == "sr":
                stream.track.on_sender_report(int(message["ntp"]), int(message["rtp"]))
            elif op == "end":
                self._remove(stream_id)
        except (KeyError, TypeError, ValueError):
            self.bad_control += 1

    def _ask_about(self, stream_id: int) -> None:
        """A stream whose description was lost (a burst overflowed a buffer): ask A again,
        at most every ``_ASK_SECONDS`` per stream."""
        now = time.monotonic()
        if now - self._asked.get(stream_id, -_ASK_SECONDS) >= _ASK_SECONDS:
            if len(self._asked) > 1024:
                self._asked.clear()
            self._asked[stream_id] = now
            self.control({"op": "describe", "stream": stream_id})

    def _add(self, stream_id: int, message: dict[str, Any], epoch: int) -> None:
        kind = message["kind"]
        if kind not in _KINDS or not isinstance(message["participant"], str):
            raise ValueError("bad track description")
        if len(self.streams) >= MAX_STREAMS:
            raise ValueError("too many streams on one pipe")

        def send_keyframe_request() -> bool:
            return self.control({"op": "keyframe", "stream": stream_id})

        def send_nack(lost: list[int]) -> bool:
            return self.control({"op": "nack", "stream": stream_id, "seqs": lost[:256]})

        track = PublishedTrack(
            message["participant"],
            source_of(message["source"]),
            kind,
            Gate(True),  # the gate is A's: what arrives was let through there
            int(message["pt"]) & 0x7F,
            KeyframeRequester(send_keyframe_request, self._keyframe_interval),
            self._replay_limit,
            lambda _track: None,
            send_nack=send_nack if self._loss_repair else None,
        )
        self.streams[stream_id] = RemoteStream(track, epoch, bool(message["open"]))
        self._on_added(track)

    def _remove(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream.track.end()
            self._on_removed(stream.track)

    def control(self, message: dict[str, Any]) -> bool:
        """Feedback to A (keyframe requests, NACKs), from this pipe's socket."""
        transport = self._transport
        if transport is None or self.closed or not self._guard.peer[1]:
            return False  # A's port is known from its first datagram
        self._counter += 1
        transport.sendto(seal_control(self._key, self._counter, message), self._guard.peer)
        return True

    def error_received(self, exc: Exception) -> None:
        logger.debug("pipe %s: %r", self.offer.pipe_id, exc)

    async def _watch_silence(self) -> None:
        while not self.closed:
            await asyncio.sleep(1.0)  # a coarse clock for a silence of seconds
            if self.streams and time.monotonic() - self._heard > SILENCE_SECONDS:
                logger.info("pipe %s silent: its tracks end", self.offer.pipe_id)
                for stream_id in list(self.streams):
                    self._remove(stream_id)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """End every remote track at once and close the socket."""
        if self.closed:
            return
        for stream_id in list(self.streams):
            self._remove(stream_id)
        self.closed = True
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
        if self._transport is not None:
            self._transport.close()

    def stats(self) -> dict[str, int]:
        guard = self._guard
        return {
            "streams": len(self.streams),
            "taken": guard.taken,
            "foreign": guard.foreign,
            "forged": guard.forged,
            "replayed": guard.replayed,
            "unknown_stream": self.unknown_stream,
            "stale": self.stale,
            "bad_control": self.bad_control,
            "errors": self.errors,
        }
