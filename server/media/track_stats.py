"""Counters of one published track, read on demand for tests, the bench and /metrics.

Reading them costs nothing on the forwarding path: every counter is a field the
hot path already increments (``forwarder.PublishedTrack``, ``DownTrack``).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def track_stats_of(track: PublishedTrack) -> TrackStats:
    """A snapshot of ``track``'s counters; ``subscribers`` counts the streams forwarded now."""
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
