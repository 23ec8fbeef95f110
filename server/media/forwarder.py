"""RTP-level selective forwarding: one published track to many subscribers.

The hot path (``PublishedTrack.on_rtp`` -> ``DownTrack.send``) decodes nothing
and decides nothing: it checks the gate's ``open`` flag, caches the packet and
writes it to each subscriber with that subscriber's SSRC, payload type,
sequence number and timestamp, as Galène (``rtpconn.Write``), LiveKit
(``rtpmunger``) and Janus (``janus_rtp_header_update``) do, and with that
subscriber's own header extensions (its mid, and abs-send-time stamped as the
packet leaves; ``header_extensions``). Everything policy is decided elsewhere
and arrives as ``Gate.open``.

Rules that live here, each with the reason:

- Sequence numbers stay gap-free for a subscriber when the gate drops packets:
  on resume the numbering continues at last + 1. An aiortc receiver waits for a
  missing packet until 512 later ones arrived (jitterbuffer.py:50-56, ~8 s at
  61 packets/s); a browser would NACK the gap to a server that never had it.
- Timestamps keep their per-subscriber offset across a closed gate, so the
  receiver sees the real pause (RFC 3550 5.1: timestamps follow the sampling
  clock).
- Video resumes only on a keyframe; opening a gate asks the publisher for one.
  A new subscriber gets the cached run since the last keyframe at once, or waits
  for a requested keyframe when that run is too long or incomplete.
- Keyframe requests from subscribers reach the publisher at most once per
  ``min_interval`` (a late one is deferred, never lost; ``keyframes``).
- A video track whose publisher answers NACKs has a ``LossRepair``: packets
  after a gap wait there until the gap is repaired or given up on, so
  subscribers get the stream in order; retransmissions enter through
  ``on_retransmission``, past the same gate. Held packets are released only
  while the gate is open, and every gate change forgets them.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

from .aiortc_seam import ForwardedSender, RtpSink, ntp_now
from .events import Source
from .forwarded_totals import FORWARDED, ForwardedTotals
from .header_extensions import OutgoingExtensions
from .keyframes import KeyframeRequester
from .loss_repair import LossRepair
from .packet_cache import CachedPacket, PacketCache
from .rtp_packets import RTP_HEADER, RtpFields, vp8_frame_start
from .speaking import LevelMeter

__all__ = [
    "FORWARDED",
    "DownTrack",
    "ForwardedTotals",
    "Gate",
    "KeyframeRequester",
    "PublishedTrack",
]

_VIDEO_CACHE_PACKETS = 1024
_AUDIO_CACHE_PACKETS = 128
# A keyframe captured for the camera check: a 4K VP8 keyframe is a few hundred packets.
# The frame ends at its marker bit, which the publisher decides: without this bound one
# that never sets it (and keeps the timestamp) grew the capture without limit.
MAX_CAPTURE_PACKETS = 1024


class Gate:
    """Whether one (participant, source) may be forwarded. Closed until told otherwise."""

    __slots__ = ("open",)

    def __init__(self, open: bool = False) -> None:
        self.open = open


class DownTrack:
    """One published track as one subscriber receives it: the header rewrite and its state."""

    __slots__ = (
        "_header",
        "_last_out",
        "_need_keyframe",
        "_resync",
        "_segment_start",
        "_segments",
        "_seq_offset",
        "_sink",
        "_ts_offset",
        "clock_set",
        "packets",
        "payload_type",
        "retransmitted",
        "sender",
        "ssrc",
        "subscriber_id",
        "video",
    )

    def __init__(
        self,
        subscriber_id: str,
        sink: RtpSink,
        sender: ForwardedSender,
        payload_type: int,
        video: bool,
        extensions: OutgoingExtensions | None = None,
    ) -> None:
        """``extensions``: the subscriber's own header extensions for this m-line (mid,
        abs-send-time stamped as each packet leaves); none, a bare 12-byte header."""
        self.subscriber_id = subscriber_id
        self._header: Callable[[int, int, int, int, int], bytes] = RTP_HEADER.pack
        if extensions is not None and not extensions.empty:
            self._header = extensions.header
        self._sink = sink
        self.sender = sender
        self.ssrc = sender.ssrc
        self.payload_type = payload_type
        self.video = video
        self._ts_offset = random.getrandbits(32)
        self._seq_offset = 0
        # Start in the lower half of the range, as aiortc does, to stay clear of
        # a wrap in the first packets (rtcrtpsender.py random_sequence_number).
        self._last_out = (random.getrandbits(15) - 1) & 0xFFFF
        self._resync = True
        self._need_keyframe = video
        self._segment_start = 0
        # (first publisher sequence number, offset) of each run; maps NACKs back.
        self._segments: deque[tuple[int, int]] = deque(maxlen=32)
        self.clock_set = False
        self.packets = 0
        self.retransmitted = 0

    @property
    def newest_sequence_number(self) -> int:
        """The sequence number of the newest packet sent on this stream (out numbering)."""
        return self._last_out

    def resume(self) -> None:
        """Continue the numbering at the next forwarded packet (and wait for a keyframe)."""
        self._resync = True
        self._need_keyframe = self.video

    def switch(self, ts_delta: int) -> None:
        """Go on with another simulcast layer at its next keyframe (``simulcast.py``)."""
        self.resume()
        self._ts_offset = (self._ts_offset + ts_delta) & 0xFFFFFFFF
        self._segments.clear()

    def send(self, packet: CachedPacket) -> None:
        seq = packet.sequence_number
        if self._resync:
            if self._need_keyframe and not packet.keyframe:
                return
            self._resync = self._need_keyframe = False
            self._seq_offset = (self._last_out + 1 - seq) & 0xFFFF
            self._segment_start = seq
            self._segments.append((seq, self._seq_offset))
        elif (seq - self._segment_start) & 0xFFFF >= 0x8000:
            return  # older than the point we resumed at: its number is taken
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        header = self._header(
            0xA0 if packet.padding else 0x80,
            (0x80 | self.payload_type) if packet.marker else self.payload_type,
            out_seq,
            out_ts,
            self.ssrc,
        )
        if not self._sink.send_rtp(header + packet.body):
            return
        if (out_seq - self._last_out) & 0xFFFF < 0x8000:
            self._last_out = out_seq
        self.packets += 1
        FORWARDED.packets += 1
        FORWARDED.octets += len(header) + len(packet.body)
        self.sender.count(len(packet.body))
        if not self.clock_set:
            # Until the publisher's first sender report: the forwarding instant.
            self.sender.set_clock(ntp_now(), out_ts)
            self.clock_set = True

    def set_clock(self, ntp_timestamp: int, publisher_rtp_timestamp: int) -> None:
        """Translate a publisher's sender report into this subscriber's timestamps."""
        self.sender.set_clock(
            ntp_timestamp, (publisher_rtp_timestamp + self._ts_offset) & 0xFFFFFFFF
        )
        self.clock_set = True

    def retransmit(self, out_sequence_numbers: list[int], cache: PacketCache) -> int:
        """Answer a subscriber's NACK from the cache (RFC 4585 6.2.1); returns packets resent."""
        resent = 0
        for out_seq in out_sequence_numbers:
            offset = None
            for start, segment_offset in reversed(self._segments):
                if (out_seq - start - segment_offset) & 0xFFFF < 0x8000:
                    offset = segment_offset
                    break
            if offset is None:
                continue
            packet = cache.get((out_seq - offset) & 0xFFFF)
            if packet is None:
                continue
            header = self._header(  # abs-send-time: the time of this retransmission
                0xA0 if packet.padding else 0x80,
                (0x80 | self.payload_type) if packet.marker else self.payload_type,
                out_seq,
                (packet.timestamp + self._ts_offset) & 0xFFFFFFFF,
                self.ssrc,
            )
            if self._sink.send_rtp(header + packet.body):
                resent += 1
        self.retransmitted += resent
        return resent


class PublishedTrack:
    """A participant's published track: its gate, cache and subscribers."""

    def __init__(
        self,
        participant_id: str,
        source: Source,
        kind: str,
        gate: Gate,
        payload_type: int,
        keyframes: KeyframeRequester,
        replay_limit: int,
        on_first_packet: Callable[[PublishedTrack], None],
        *,
        send_nack: Callable[[list[int]], bool] | None = None,
    ) -> None:
        """``send_nack`` (video only) turns on loss repair: it sends a NACK to the publisher."""
        self.participant_id = participant_id
        self.source = source
        self.kind = kind
        self.video = kind == "video"
        self.gate = gate
        self.payload_type = payload_type
        self.keyframes = keyframes
        self.cache = PacketCache(_VIDEO_CACHE_PACKETS if self.video else _AUDIO_CACHE_PACKETS)
        self.replay_limit = replay_limit
        self.downs: tuple[DownTrack, ...] = ()
        self._on_first_packet: Callable[[PublishedTrack], None] | None = on_first_packet
        self.sender_report: tuple[int, int] | None = None
        self.width = self.height = 0
        self.packets_received = self.packets_dropped = 0
        self.frames = self.keyframes_seen = 0
        # One keyframe captured for the camera check, when asked for.
        self.capture_wanted = False
        self._capture: list[bytes] | None = None
        self._capture_timestamp = 0
        self.on_keyframe_captured: Callable[[list[bytes]], None] | None = None
        self.on_forward_keyframe: Callable[[PublishedTrack, CachedPacket], None] | None = None
        self.ended = False
        self.retransmissions_received = 0
        self.level: LevelMeter | None = None  # a microphone's audio levels (``speaking``)
        self.repair: LossRepair | None = None
        if self.video and send_nack is not None:
            self.repair = LossRepair(
                send_nack=send_nack,
                release=self._release,
                request_keyframe=keyframes.request,
                resume_subscribers=self._resume_after_loss,
            )

    # ------------------------------------------------------------------ hot path

    def on_rtp(self, fields: RtpFields) -> None:
        if fields.payload_type != self.payload_type:
            self.packets_dropped += 1
            return
        self.packets_received += 1
        if self._on_first_packet is not None:
            callback, self._on_first_packet = self._on_first_packet, None
            callback(self)
        body = fields.body
        keyframe = False
        if self.video:
            if fields.marker:
                self.frames += 1
            if body[0] & 0x17 == 0x10:  # S=1, partition 0: a frame starts here
                start = vp8_frame_start(body)
                if start is not None and start.keyframe:
                    keyframe = True
                    self.keyframes_seen += 1
                    self.width, self.height = start.width, start.height
            if self.capture_wanted or self._capture is not None:
                self._capture_packet(fields, keyframe)
        if not self.gate.open:
            self.packets_dropped += 1
            return
        packet = CachedPacket(
            fields.sequence_number, fields.timestamp, fields.marker, fields.padding, body, keyframe
        )
        repair = self.repair
        if repair is not None and not repair.passes(packet):
            return  # after a gap: the repair releases it in order, or drops it
        if keyframe and self.on_forward_keyframe is not None:
            self.on_forward_keyframe(self, packet)  # a simulcast switch to this layer
        self.cache.add(packet)
        for down in self.downs:
            down.send(packet)

    def on_retransmission(self, fields: RtpFields) -> None:
        """A retransmitted packet (RTX unwrapped, RFC 4588 4): it may fill a gap, nothing more."""
        self.retransmissions_received += 1
        repair = self.repair
        if repair is None or not self.gate.open or fields.payload_type != self.payload_type:
            return
        body = fields.body
        start = vp8_frame_start(body) if body[0] & 0x17 == 0x10 else None
        keyframe = start is not None and start.keyframe
        seq, ts, marker = fields.sequence_number, fields.timestamp, fields.marker
        repair.retransmitted(CachedPacket(seq, ts, marker, fields.padding, body, keyframe))

    def _release(self, packet: CachedPacket) -> None:
        """A packet the repair held, now in order: forwarded as on_rtp would have."""
        if not self.gate.open or self.ended:
            return  # never: a gate change resets the repair; kept as the last word
        if packet.keyframe and self.on_forward_keyframe is not None:
            self.on_forward_keyframe(self, packet)
        self.cache.add(packet)
        for down in self.downs:
            down.send(packet)

    def _resume_after_loss(self) -> None:
        """The repair gave up a gap: every subscriber resumes on a keyframe, numbering on;
        the cache is emptied, so that no run replayed to a new subscriber ends in the gap."""
        self.cache.clear()
        for down in self.downs:
            down.resume()

    def _capture_packet(self, fields: RtpFields, keyframe: bool) -> None:
        body = fields.body
        if fields.padding:
            body = body[: -body[-1]]
        if keyframe and self.capture_wanted:
            self.capture_wanted = False
            self._capture = [body]
            self._capture_timestamp = fields.timestamp
        elif self._capture is not None:
            late = fields.timestamp != self._capture_timestamp  # lost the end of the frame
            if late or len(self._capture) >= MAX_CAPTURE_PACKETS:  # or no keyframe's size
                self._capture = None  # wait for the next one
                self.capture_wanted = True
                return
            self._capture.append(body)
        if fields.marker and self._capture is not None:
            captured, self._capture = self._capture, None
            if self.on_keyframe_captured is not None:
                self.on_keyframe_captured(captured)

    # ------------------------------------------------------------------ control

    def gate_opened(self) -> None:
        """The gate just opened: start every subscriber afresh, on a new keyframe."""
        self.cache.clear()
        if self.repair is not None:
            self.repair.reset()
        for down in self.downs:
            down.resume()
        if self.video:
            # A keyframe asked for while the gate was closed was dropped with it.
            self.keyframes.request(urgent=True)

    def gate_closed(self) -> None:
        """The gate just closed: forget what was cached or held so it can never be sent."""
        self.cache.clear()
        if self.repair is not None:
            self.repair.reset()

    def add_down(self, down: DownTrack) -> None:
        """Start forwarding to a new subscriber: replay from the last keyframe, or ask for one."""
        if self.video and self.gate.open:
            run = self.cache.since_keyframe(self.replay_limit)
            if run is None:
                self.keyframes.request()
            else:
                for packet in run:
                    down.send(packet)
        if self.sender_report is not None:
            down.set_clock(*self.sender_report)
        self.downs = (*self.downs, down)

    def remove_down(self, down: DownTrack) -> None:
        self.downs = tuple(d for d in self.downs if d is not down)

    def on_sender_report(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        self.sender_report = (ntp_timestamp, rtp_timestamp)
        for down in self.downs:
            down.set_clock(ntp_timestamp, rtp_timestamp)

    def on_nack(self, down: DownTrack, out_sequence_numbers: list[int]) -> None:
        if self.gate.open:
            down.retransmit(out_sequence_numbers, self.cache)

    def cache_for(self, down: DownTrack) -> PacketCache:
        """The cache of the packets ``down`` is sent (a simulcast track: its layer's)."""
        return self.cache

    def end(self) -> None:
        """Stop forwarding at once; nothing of this track is sent after this call."""
        self.ended = True
        self.downs = ()
        self.cache.clear()
        if self.repair is not None:
            self.repair.reset()
        self.keyframes.cancel()
        self.on_keyframe_captured = None
