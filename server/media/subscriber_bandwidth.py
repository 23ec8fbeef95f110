"""What one subscriber's link can take, and the video it is sent while it cannot take more.

The estimate (``bandwidth.BandwidthEstimate``) is fed by the subscriber's RTCP:
each receiver-report block about a stream forwarded to it and each REMB. After
every update of the estimate (about once a second) the streams are allocated
as LiveKit's stream allocator (``pkg/sfu/streamallocator``) does for a track
with a single layer:

- audio first: what the subscriber's audio streams take is set aside before any
  video, so an over-driven link does not also starve the viewer's sound;
- then each video stream, screen before camera, as long as what it takes fits
  in what is left; a stream that does not fit is paused for this subscriber
  alone (removed from the track's subscribers: nothing else changes for the
  others, the publisher or the cache);
- a paused stream resumes when the loss-based estimate has room for what it took
  when it was last sent, with a margin (``RESUME_MARGIN``; none when the estimate
  has gone back to what the link carried before its loss), or has no limit
  (a REMB cannot say: a receiver's delay-based estimate is bounded by 1.5 times
  what it receives, and it receives no video while paused), through the forwarder's
  resume path: numbering continues gap-free and forwarding restarts on a
  keyframe (the cached run since the last one, or a requested one). With
  nothing to probe the link (LiveKit sends padding probes), a resume is the
  probe; one that the link cannot carry pauses again, and the wait before the
  next attempt doubles (``FIRST_HOLD`` to ``MAX_HOLD``).

A simulcast stream is lowered a layer before it is paused, and is not paused while
it waits for the smaller layer's keyframe; its rate is measured afresh after each
switch (the smoothed rate of the layer it left would pause the one it is on).

While a stream is paused, and until a resume has held for ``FAILED_WITHIN``, what
the subscriber is said to take of each video stream (``video_share``: the
publisher's REMB and the simulcast layer read it) is held at what it was when the
stream was last paused: the loss-based limit grows while nothing tests it (that
growth is what lets a resume probe the link), which is no reason to ask a
publisher for more.

Loss pauses a stream as soon as it does not fit; a REMB (which counts only while
the subscriber loses packets, ``bandwidth``) only when clearly below what the
stream takes (``REMB_SLACK``), and not in the ``GRACE`` after a resume.

Rates are measured from what was sent to this subscriber: payload octets plus
``HEADER_OCTETS`` per packet for the RTP, SRTP, UDP and IP headers. Time is
passed in; the subscribing connection reads the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .bandwidth import FLOOR, BandwidthEstimate
from .forwarder import DownTrack, PublishedTrack
from .simulcast import SimulcastTrack

__all__ = [
    "FAILED_WITHIN",
    "FIRST_HOLD",
    "HEADER_OCTETS",
    "MAX_HOLD",
    "RESUME_MARGIN",
    "SubscriberBandwidth",
    "sent_octets",
]

HEADER_OCTETS = 12 + 10 + 8 + 20
"""Per packet on the wire besides the payload: RTP, the SRTP tag, UDP, IPv4."""
RESUME_MARGIN = 1.25
"""A paused stream resumes when the room left is this many times what it takes."""
FIRST_HOLD = 2.0
"""Seconds after a pause before a resume is tried."""
MAX_HOLD = 60.0
"""The longest wait between resumes that the link could not carry."""
FAILED_WITHIN = 10.0
"""A pause this soon after a resume means the resume failed: the next wait doubles."""
REMB_SLACK = 0.6
"""A stream is paused on REMB when the REMB left for it is under this share of what it
takes. A receiver's delay-based estimate of a link that is not congested sits at or
above what arrives; on overuse it drops to 0.85 of what arrives
(draft-ietf-rmcat-gcc-02 5.5). A receiver that is only slow to read (a loaded
machine: its arrival times lag) reports 0.85 of the full stream; a link that carries
less than 0.7 of it reports under 0.6. Links in between are left to the loss-based
controller, which sees the queue overflow."""
GRACE = 5.0
"""Seconds after a resume in which REMB cannot pause the stream again: the receiver's
estimate (per video stream in aiortc) restarts from where it stopped and takes time
to follow (it grows by at most 8 % a second, aiortc rate.py). Loss still can."""
SMOOTHING = 0.3
"""Weight of the latest second in a stream's measured rate (an exponential average)."""
_PRIORITY = {"screen": 0, "camera": 1}

logger = logging.getLogger(__name__)

Forwarded = Sequence[tuple[PublishedTrack, DownTrack]]


def sent_octets(down: DownTrack) -> int:
    """Octets sent to the subscriber on this stream so far, headers included."""
    return down.sender.octets + HEADER_OCTETS * down.packets


@dataclass(slots=True)
class _Stream:
    """One forwarded stream as the allocation sees it."""

    octets: int
    at: float
    rate: float | None = None
    """Bits per second it took while sent (the last measure); None until measured."""
    paused: bool = False
    hold: float = FIRST_HOLD
    resume_after: float = 0.0
    resumed_at: float | None = None
    grace_until: float = 0.0
    layer: str | None = None
    """The simulcast layer it was sent at the last measure (None: not simulcast)."""


class SubscriberBandwidth:
    """One subscriber's estimate and the pause or resume of its video streams."""

    def __init__(
        self,
        enabled: bool = True,
        on_change: Callable[[PublishedTrack, bool], None] | None = None,
    ) -> None:
        """``enabled`` False estimates but never pauses (the server before this, for the
        benchmark); ``on_change(track, paused)`` hears every pause and resume."""
        self.enabled = enabled
        self.estimate = BandwidthEstimate()
        self._streams: dict[DownTrack, _Stream] = {}
        self.on_change = on_change
        self.on_resumed: Callable[[DownTrack], None] | None = None
        """Hears each stream resumed, once it is forwarded again (``subscriber``)."""
        self.pauses = 0
        self.resumes = 0
        self._held_share: int | None = None
        """``video_share`` at most this, from a pause until a resume has held."""

    # ------------------------------------------------------------------ RTCP

    def on_report(
        self, down: DownTrack, highest: int, cumulative_lost: int, now: float, forwarded: Forwarded
    ) -> None:
        """A receiver-report block about ``down``; ``forwarded``: every stream sent to
        this subscriber now (paused ones included)."""
        self.estimate.on_report_block(down.ssrc, highest, cumulative_lost)
        total = sum(sent_octets(d) for _, d in forwarded)
        if self.estimate.update(now, total):
            self.allocate(now, forwarded)

    def on_remb(self, bitrate: int, now: float) -> None:
        self.estimate.on_remb(bitrate, now)

    def available_bitrate(self) -> int | None:
        """The subscriber's estimated available bits per second, or None (no limit known)."""
        return self.estimate.available_bitrate()

    def is_paused(self, down: DownTrack) -> bool:
        stream = self._streams.get(down)
        return stream is not None and stream.paused

    def forget(self, down: DownTrack) -> None:
        """A stream no longer forwarded (its track ended, or the subscriber left)."""
        self._streams.pop(down, None)
        self.estimate.forget(down.ssrc)

    # ------------------------------------------------------------------ allocation

    def _measure(self, now: float, forwarded: Forwarded) -> float:
        """Update every stream's rate; returns what the audio streams take."""
        audio = 0.0
        for track, down in forwarded:
            octets = sent_octets(down)
            layer = track.layer_of(down) if isinstance(track, SimulcastTrack) else None
            stream = self._streams.get(down)
            if stream is None:
                self._streams[down] = _Stream(octets, now, layer=layer)
                continue
            elapsed = now - stream.at
            if layer != stream.layer:  # another layer: what the last one took is no guide
                stream.layer, stream.rate = layer, None
            elif not stream.paused and elapsed > 0:
                rate = (octets - stream.octets) * 8 / elapsed
                # smoothed: a keyframe makes one second's rate a multiple of the stream's
                previous = stream.rate
                stream.rate = rate if previous is None else previous + SMOOTHING * (rate - previous)
            stream.octets, stream.at = octets, now
            if not down.video and stream.rate is not None:
                audio += stream.rate
        return audio

    def allocate(self, now: float, forwarded: Forwarded) -> None:
        """Pause the video streams the estimate has no room for, resume those it has."""
        audio = self._measure(now, forwarded)
        if not self.enabled:
            return
        share = self._share(forwarded)
        loss_limit, remb = self.estimate.loss_limit, self.estimate.remb
        loss_left = None if loss_limit is None else loss_limit - audio
        # aiortc's REMB is per video stream, of its packets alone (rate.py, one estimator
        # per receiver): the audio is not taken from it.
        remb_left = remb
        # A limit gone back to what the link carried before its loss needs no margin:
        # the link has carried it (``bandwidth``, a recovery).
        margin = 1.0 if self.estimate.recovered else RESUME_MARGIN
        videos = sorted(
            ((track, down) for track, down in forwarded if down.video and not track.ended),
            key=lambda pair: _PRIORITY.get(pair[0].source, 2),
        )
        for track, down in videos:
            stream = self._streams[down]
            if stream.rate is None:
                continue  # not measured yet: nothing to decide on
            need = stream.rate
            if not stream.paused:
                over_loss = loss_left is not None and need > loss_left
                over_remb = (
                    remb_left is not None
                    and now >= stream.grace_until
                    and need * REMB_SLACK > remb_left
                )
                if (over_loss or over_remb) and not (
                    isinstance(track, SimulcastTrack)
                    and (track.can_lower(down) or track.lowering(down))
                ):  # a smaller layer first (its choice reads ``video_share``), then a pause
                    logger.info(
                        "%s of %s paused for a subscriber: it takes %.0f bit/s, "
                        "room left by loss %s, by REMB %s",
                        track.source,
                        track.participant_id,
                        need,
                        loss_left,
                        remb_left,
                    )
                    self._pause(track, down, stream, now)
                    self._held_share = share
                    continue
            elif now >= stream.resume_after and (loss_left is None or need * margin <= loss_left):
                self._resume(track, down, stream, now)
            else:
                continue
            loss_left = None if loss_left is None else loss_left - need
            remb_left = None if remb_left is None else remb_left - need
        if self._held_share is not None and all(
            not stream.paused
            and (stream.resumed_at is None or now - stream.resumed_at >= FAILED_WITHIN)
            for stream in self._streams.values()
        ):
            self._held_share = None  # every resume has held: the estimate is trusted again

    def _pause(self, track: PublishedTrack, down: DownTrack, stream: _Stream, now: float) -> None:
        failed = stream.resumed_at is not None and now - stream.resumed_at < FAILED_WITHIN
        stream.hold = min(stream.hold * 2, MAX_HOLD) if failed else FIRST_HOLD
        stream.resume_after = now + stream.hold
        stream.paused = True
        self.pauses += 1
        track.remove_down(down)
        if self.on_change is not None:
            self.on_change(track, True)

    def _resume(self, track: PublishedTrack, down: DownTrack, stream: _Stream, now: float) -> None:
        stream.paused = False
        stream.resumed_at = now
        stream.grace_until = now + GRACE
        self.resumes += 1
        # numbering on at last + 1, from the next keyframe (forwarder.DownTrack.resume);
        # add_down sends the cached run since the last keyframe or asks for one.
        down.resume()
        if not track.ended and down not in track.downs:
            track.add_down(down)
        if self.on_resumed is not None:
            self.on_resumed(down)
        if self.on_change is not None:
            self.on_change(track, False)

    def video_share(self, forwarded: Forwarded) -> int | None:
        """What this subscriber can take of each video stream forwarded to it, split
        evenly among them (paused ones included): the loss-based limit (as it grew
        without recoveries, ``bandwidth.steady_limit``) less its audio,
        or its REMB (of video alone in aiortc), the smaller; None if no limit is known.
        Since a pause, until a resume has held, at most what it was at the pause."""
        share = self._share(forwarded)
        held = self._held_share
        if held is None:
            return share
        return held if share is None else min(share, held)

    def _share(self, forwarded: Forwarded) -> int | None:
        # Without recoveries: a layer or a publisher's rate is not raised on a probe.
        loss_limit, remb = self.estimate.steady_limit, self.estimate.remb
        if loss_limit is None and remb is None:
            return None
        audio = 0.0
        videos = 0
        for _, down in forwarded:
            if down.video:
                videos += 1
                continue
            stream = self._streams.get(down)
            if stream is not None and stream.rate is not None:
                audio += stream.rate
        limits = [float(remb)] if remb is not None else []
        if loss_limit is not None:
            limits.append(loss_limit - audio)
        return max(int(min(limits) / max(videos, 1)), FLOOR)
