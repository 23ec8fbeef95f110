"""The sending end of a media pipe: a room's tracks, after their gates, to another node.

On the node a track is published on (A), each track piped to a node (B) gets a
``PipeDown``: a downstream of the ``PublishedTrack`` beside its local
subscribers' ``DownTrack``s, fed the same packets at the same point, after the
gate, so a closed gate sends nothing to B either. It sends each packet once, in
the publisher's numbering, as mediasoup's pipe consumers send a producer's
streams verbatim (https://mediasoup.org/documentation/v3/mediasoup/api/#PipeTransport);
B rewrites per viewer.

A camera sent in simulcast layers (``simulcast.py``) is piped as one stream: the
``PipeDown`` is a subscriber of the ``SimulcastTrack`` with no tile and no
bandwidth limit, so it gets the largest layer the publisher is sending, and B's
viewers get that layer. When that layer stops (a browser short of bandwidth
drops its top layer) the pipe goes on with the next at its keyframe, as a
viewer's ``DownTrack`` does: the numbering and the clock continue across the
switch, and a new epoch tells B that a new run starts.

One ``PipeSender`` per pipe (one room, one remote node) holds the UDP socket,
the streams and the secret. What comes back from B is feedback for the
publisher, as from a local viewer: a keyframe request goes through the track's
``KeyframeRequester`` (rate-limited), a NACK is answered from the track's cache
while the gate is open, within the per-viewer ``NackBudget`` (mediasoup's pipe
transports repair losses between routers the same way, ``enableRtx``).

Gate changes and track ends are told to B at once and again every
``HEARTBEAT_SECONDS`` (``pipe_wire`` explains epochs): B empties its cache when
the gate closes, so nothing cached before can reach a viewer who joins at B later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast

from .forwarder import PublishedTrack
from .nack_budget import NackBudget
from .packet_cache import CachedPacket
from .pipe_wire import (
    CONTROL,
    MEDIA,
    RETRANSMISSION,
    PipeGuard,
    PipeOffer,
    read_control,
    seal,
    seal_control,
)
from .rtp_packets import RTP_HEADER

__all__ = ["HEARTBEAT_SECONDS", "PipeDown", "PipeSender"]

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
_MAX_NACKED = 256  # sequence numbers taken from one NACK message


class PipeDown:
    """One track as one remote node receives it: the publisher's packets, sent once."""

    __slots__ = (
        "_last_out",
        "_nacks",
        "_pipe",
        "_rebase",
        "_run_start",
        "_seq_offset",
        "_ts_offset",
        "clock_set",
        "epoch",
        "packets",
        "retransmitted",
        "stream",
        "subscriber_id",
        "track",
        "video",
    )

    def __init__(self, pipe: PipeSender, stream: int, track: PublishedTrack) -> None:
        self._pipe = pipe
        self.stream = stream
        self.track = track
        self.subscriber_id = f"pipe:{pipe.offer.pipe_id}"
        self.video = track.video
        self.epoch = 0
        self.packets = self.retransmitted = 0
        self.clock_set = False
        self._nacks = NackBudget()
        # What moves the packets of a simulcast layer switched to onto the numbering and
        # the clock B has had (0 without simulcast: the publisher's own).
        self._seq_offset = self._ts_offset = 0
        self._last_out: int | None = None
        self._rebase = False
        self._run_start: int | None = None
        """The first sequence number sent of the current layer (None: never switched)."""

    def _rtp(self, packet: CachedPacket, sequence_number: int) -> bytes:
        payload_type = self.track.payload_type
        return (
            RTP_HEADER.pack(
                0xA0 if packet.padding else 0x80,
                (0x80 | payload_type) if packet.marker else payload_type,
                sequence_number,
                (packet.timestamp + self._ts_offset) & 0xFFFFFFFF,
                self.stream,
            )
            + packet.body
        )

    def send(self, packet: CachedPacket) -> None:
        """The hot path: one packet the gate let through, to the remote node."""
        if self._rebase:  # the first packet of a layer switched to: its keyframe
            self._rebase = False
            if self._last_out is not None:
                self._run_start = (self._last_out + 1) & 0xFFFF
                self._seq_offset = (self._run_start - packet.sequence_number) & 0xFFFF
        sequence_number = (packet.sequence_number + self._seq_offset) & 0xFFFF
        self._last_out = sequence_number
        if self._pipe.send(MEDIA, self.epoch, self._rtp(packet, sequence_number)):
            self.packets += 1

    def resume(self) -> None:
        """A new run (the gate opened, or A gave up a gap): B's viewers resume on it."""
        self.epoch = (self.epoch + 1) & 0xFF

    def switch(self, ts_delta: int) -> None:
        """Go on with another simulcast layer from its keyframe, the next packet sent
        (``simulcast.py``): numbering and clock continue, in a new run."""
        self._ts_offset = (self._ts_offset + ts_delta) & 0xFFFFFFFF
        self._rebase = True
        self.resume()

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        """The publisher's sender report (of the layer piped), for B to translate for its
        viewers, on the clock B has had."""
        self.clock_set = True
        rtp_timestamp = (rtp_timestamp + self._ts_offset) & 0xFFFFFFFF
        self._pipe.control({"op": "sr", "stream": self.stream, "ntp": ntp_timestamp,
                            "rtp": rtp_timestamp})  # fmt: skip

    def gate_closed(self) -> None:
        """The gate closed: a new epoch, and B is told to forget what it cached."""
        self.epoch = (self.epoch + 1) & 0xFF
        for _ in range(2):  # UDP: once more at once, then in every heartbeat
            self._pipe.control(self.describe())

    def describe(self) -> dict[str, Any]:
        track = self.track
        return {
            "op": "track",
            "stream": self.stream,
            "participant": track.participant_id,
            "source": track.source,
            "kind": track.kind,
            "pt": track.payload_type,
            "epoch": self.epoch,
            "open": track.gate.open and not track.ended,
        }

    def answer_nack(self, sequence_numbers: list[int]) -> None:
        """B lost these packets on the pipe: resend those still cached, gate open."""
        track = self.track
        cache = track.cache_for(self)  # type: ignore[arg-type]  # a DownTrack's duck
        run_start = self._run_start
        allowed = self._nacks.allow(sequence_numbers, time.monotonic())
        for seq in allowed:
            if not track.gate.open or track.ended:
                return
            if run_start is not None and (seq - run_start) & 0xFFFF >= 0x8000:
                continue  # sent before the last layer switch: another layer's packet
            packet = cache.get((seq - self._seq_offset) & 0xFFFF)
            if packet is None:
                continue
            if self._pipe.send(RETRANSMISSION, self.epoch, self._rtp(packet, seq)):
                self.retransmitted += 1


class PipeSender(asyncio.DatagramProtocol):
    """One pipe's sending end: its socket, its streams (by track), feedback from B."""

    def __init__(self, offer: PipeOffer) -> None:
        self.offer = offer
        self._key = offer.key
        self._guard = PipeGuard(offer.key, offer.address)
        self._transport: asyncio.DatagramTransport | None = None
        self._counter = 0
        self._next_stream = 1
        self.downs: dict[PublishedTrack, PipeDown] = {}
        self._by_stream: dict[int, PipeDown] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self.closed = False
        self.bad_control = 0
        self.follows_room = False
        """Every track the room publishes is piped, now and later (``pipe_all_to``)."""

    async def start(self, host: str) -> None:
        """Bind the pipe's socket on ``host`` (the address B was told A sends from)."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self._heartbeat = asyncio.ensure_future(self._beat())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is no subclass

    @property
    def address(self) -> tuple[str, int]:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    # ------------------------------------------------------------------ sending

    def send(self, kind: int, epoch: int, body: bytes) -> bool:
        transport = self._transport
        if transport is None or self.closed:
            return False
        self._counter += 1
        transport.sendto(seal(self._key, kind, epoch, self._counter, body), self.offer.address)
        return True

    def control(self, message: dict[str, Any]) -> None:
        transport = self._transport
        if transport is None or self.closed:
            return
        self._counter += 1
        transport.sendto(seal_control(self._key, self._counter, message), self.offer.address)

    # ------------------------------------------------------------------ streams

    def add(self, track: PublishedTrack) -> PipeDown:
        """Pipe ``track`` (once): B hears of it, then gets its packets."""
        down = self.downs.get(track)
        if down is not None:
            return down
        down = PipeDown(self, self._next_stream, track)
        self._next_stream += 1
        self.downs[track] = down
        self._by_stream[down.stream] = down
        self.control(down.describe())  # before its first packet: B makes the track
        track.add_down(down)  # type: ignore[arg-type]  # a DownTrack's duck
        return down

    def remove(self, track: PublishedTrack) -> None:
        """Stop piping ``track``; B's viewers lose it."""
        down = self.downs.pop(track, None)
        if down is None:
            return
        track.remove_down(down)  # type: ignore[arg-type]
        del self._by_stream[down.stream]
        for _ in range(2):
            self.control({"op": "end", "stream": down.stream})

    def gate_closed(self, track: PublishedTrack) -> None:
        down = self.downs.get(track)
        if down is not None:
            down.gate_closed()

    async def _beat(self) -> None:
        while not self.closed:
            for track in [track for track in self.downs if track.ended]:
                self.remove(track)
            for down in list(self.downs.values()):
                self.control(down.describe())
            await asyncio.sleep(HEARTBEAT_SECONDS)  # the heartbeat's period

    # ------------------------------------------------------------------ feedback

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        opened = self._guard.open(data, addr)
        if opened is None:
            return
        kind, _, body = opened
        message = read_control(body) if kind == CONTROL else None
        if message is None:
            self.bad_control += 1
            return
        try:
            down = self._by_stream.get(int(message["stream"]))
            if down is None:
                return
            if message["op"] == "describe":  # B lost the description (``pipe_receiver``)
                self.control(down.describe())
            elif message["op"] == "keyframe":
                down.track.keyframes.request()
            elif message["op"] == "nack":
                seqs = message["seqs"][:_MAX_NACKED]
                down.answer_nack([int(seq) & 0xFFFF for seq in seqs])
        except (KeyError, TypeError, ValueError):
            self.bad_control += 1

    def error_received(self, exc: Exception) -> None:
        logger.debug("pipe %s: %r", self.offer.pipe_id, exc)  # B's port closed, say

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Stop piping every track at once; tell B."""
        for track in list(self.downs):
            self.remove(track)
        self.control({"op": "bye"})
        self.closed = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._transport is not None:
            self._transport.close()

    def stats(self) -> dict[str, int]:
        guard = self._guard
        return {
            "streams": len(self.downs),
            "packets": sum(down.packets for down in self.downs.values()),
            "retransmitted": sum(down.retransmitted for down in self.downs.values()),
            "foreign": guard.foreign,
            "forged": guard.forged,
            "replayed": guard.replayed,
            "bad_control": self.bad_control,
        }
