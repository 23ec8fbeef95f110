"""Counters of one published track, read on demand for tests, the bench and /metrics.

Reading them costs nothing on the forwarding path: every counter is a field the
hot path already increments (``forwarder.PublishedTrack``, ``DownTrack``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .forwarder import PublishedTrack

__all__ = ["TrackStats", "track_stats_of"]


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
    """Packets resent to subscribers from the cache (their NACKs)."""
    nacks_sent: int = 0
    """NACK packets sent to the publisher (each asks for one or more packets)."""
    packets_nacked: int = 0
    """Packets of the publisher's asked for at least once."""
    packets_repaired: int = 0
    """Packets asked for that arrived (retransmitted, or merely late)."""
    retransmissions_received: int = 0
    """Retransmission packets (RTX) the publisher sent, whether taken or not."""
    gaps_given_up: int = 0
    """Gaps not repaired in time: skipped to a keyframe, or one asked for."""
    repair_keyframe_requests: int = 0
    """Keyframes the repair asked for (gaps given up with no keyframe behind them)."""
    keyframe_request_pending: bool = False
    """A keyframe request waits for the end of its interval (``keyframe_interval``)."""


def track_stats_of(track: PublishedTrack) -> TrackStats:
    """A snapshot of ``track``'s counters; ``subscribers`` counts the streams forwarded now.

    A source in simulcast layers (``simulcast.SimulcastTrack``) counts its layers'
    packets together; its size is the largest layer's."""
    layers: dict[str, PublishedTrack] = getattr(track, "layers", {})
    if layers:
        each = [track_stats_of(layer) for layer in layers.values()]
        summed = {
            name: sum(getattr(stats, name) for stats in each)
            for name in TrackStats.__dataclass_fields__
            if name not in ("width", "height", "frames", "subscribers", "keyframe_request_pending")
        }
        largest = max(each, key=lambda stats: stats.width * stats.height)
        return replace(
            largest,
            **summed,
            frames=track.frames,
            subscribers=len(track.downs),
            keyframe_request_pending=any(stats.keyframe_request_pending for stats in each),
        )
    repair = track.repair
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
        repair.nacks_sent if repair else 0,
        repair.packets_nacked if repair else 0,
        repair.packets_repaired if repair else 0,
        track.retransmissions_received,
        repair.gaps_given_up if repair else 0,
        repair.keyframes_requested if repair else 0,
        track.keyframes.pending,
    )
