"""The camera check, on the media itself, without decoding every frame.

Frame rate comes from RTP: one marker bit ends each VP8 frame (RFC 7741 4.1),
so counting marker bits costs one flag test per packet. Whether the picture is
black or frozen takes a picture, and a picture takes a decoder: every
``probe_interval`` seconds the monitor asks the publisher for a keyframe, which
decodes on its own, decodes that one frame in a worker thread and compares its
luma with the previous probe's:

- black: the mean luma is near the bottom of the range and barely varies;
- frozen: ``frozen_probes`` probes in a row show the same picture (mean absolute
  difference of a subsampled luma below ``still_difference``).

The decoder runs once per probe, never on the forwarding path. The cost per probe
is kept in ``CameraMonitor.probe_seconds`` (see bench/media_camera_check.py).
Limits: a perfectly still scene from a noiseless source looks frozen; a
publisher that ignores keyframe requests and never sends one cannot be probed
(it cannot be watched by a new subscriber either).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from .events import CameraFrames, CameraLost, CameraLostReason, CameraRestored, Observation
from .forwarder import PublishedTrack
from .rtp_packets import vp8_depayload

__all__ = ["CameraCheck", "CameraMonitor", "Picture", "decode_picture"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CameraCheck:
    """How the camera is watched. The defaults suit a meeting; tests shorten them."""

    report_interval: float = 1.0
    window: float = 2.0
    stall_after: float = 2.0
    probe_interval: float = 3.0
    frozen_probes: int = 3
    black_luma: float = 28.0
    black_spread: float = 6.0
    still_difference: float = 0.75


@dataclass(frozen=True, slots=True)
class Picture:
    """What one decoded keyframe tells: its luma statistics and a small thumbnail."""

    mean: float
    spread: float
    thumbnail: np.ndarray
    seconds: float


MAX_PROBE_PIXELS = 3840 * 2160
"""The largest keyframe the camera check decodes (4K). A VP8 keyframe header says its
size in 14 bits (RFC 6386 9.1), up to 16383 x 16383, and libvpx allocates for it
before it finds the frame short: one 180-byte packet claiming 13404 x 13404 grew
the server by 324 MiB (found by tests/fuzz, vp8_keyframe target)."""
_VP8_START_CODE = b"\x9d\x01\x2a"


def _too_large(data: bytes) -> bool:
    """Whether a VP8 keyframe (RFC 6386 9.1: 3-byte tag, start code, 14-bit sizes) claims
    more than MAX_PROBE_PIXELS, or is too short to say."""
    if len(data) < 10 or data[3:6] != _VP8_START_CODE:
        return True
    width = (data[6] | (data[7] << 8)) & 0x3FFF
    height = (data[8] | (data[9] << 8)) & 0x3FFF
    return width * height > MAX_PROBE_PIXELS


def decode_picture(payloads: list[bytes]) -> Picture | None:
    """Decode one VP8 keyframe from its RTP payloads; None if it does not decode, or
    claims more than MAX_PROBE_PIXELS (a camera sending that cannot be probed)."""
    started = time.perf_counter()
    try:
        data = vp8_depayload(payloads)
        if _too_large(data):
            return None
        decoder = av.CodecContext.create("vp8", "r")
        frames = decoder.decode(av.Packet(data))
    except (ValueError, av.FFmpegError):
        return None
    if not frames:
        return None
    frame = frames[0]
    plane = frame.planes[0]
    rows = np.frombuffer(bytes(plane), np.uint8).reshape(frame.height, plane.line_size)
    thumbnail = rows[::4, : frame.width : 4].astype(np.float32)
    return Picture(
        float(thumbnail.mean()),
        float(thumbnail.std()),
        thumbnail,
        time.perf_counter() - started,
    )


class CameraMonitor:
    """Watches one camera track and reports CameraFrames, CameraLost, CameraRestored."""

    def __init__(
        self,
        track: PublishedTrack,
        check: CameraCheck,
        emit: Callable[[Observation], None],
    ) -> None:
        self.track = track
        self.check = check
        self._emit = emit
        now = time.monotonic()
        self._history: deque[tuple[float, int]] = deque([(now, track.frames)])
        self._last_frame_time = now
        self._seen_frames = False
        self._lost: CameraLostReason | None = None
        self._next_probe = now
        self._previous: Picture | None = None
        self._still_probes = 0
        self._decoding = False
        self.probes = 0
        self.probe_seconds = 0.0
        track.on_keyframe_captured = self._on_keyframe

    @property
    def lost(self) -> CameraLostReason | None:
        return self._lost

    def tick(self) -> None:
        """Called every ``report_interval``: frame rate, stall, and the next probe."""
        now = time.monotonic()
        frames = self.track.frames
        if frames != self._history[-1][1]:
            self._last_frame_time = now
            self._seen_frames = True
        self._history.append((now, frames))
        while len(self._history) > 2 and now - self._history[1][0] >= self.check.window:
            self._history.popleft()
        first_time, first_frames = self._history[0]
        elapsed = now - first_time
        fps = (frames - first_frames) / elapsed if elapsed > 0 else 0.0
        self._emit(CameraFrames(self.track.participant_id, round(fps, 2), round(elapsed, 2)))
        if now - self._last_frame_time >= self.check.stall_after:
            self._report_lost("stopped" if self._seen_frames else "no_video")
            self._previous = None
            self._still_probes = 0
            return
        if now >= self._next_probe and not self._decoding:
            self._next_probe = now + self.check.probe_interval
            self.track.capture_wanted = True
            self.track.keyframes.request()

    def _on_keyframe(self, payloads: list[bytes]) -> None:
        if self._decoding:
            return
        self._decoding = True
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, decode_picture, payloads)
        future.add_done_callback(self._on_picture)

    def _on_picture(self, future: asyncio.Future[Picture | None]) -> None:
        self._decoding = False
        if future.cancelled() or self.track.ended:
            return
        picture = future.result()
        if picture is None:
            return
        self.probes += 1
        self.probe_seconds += picture.seconds
        check = self.check
        previous, self._previous = self._previous, picture
        if previous is not None and (
            float(np.mean(np.abs(picture.thumbnail - previous.thumbnail))) < check.still_difference
        ):
            self._still_probes += 1
        else:
            self._still_probes = 0
        if picture.mean <= check.black_luma and picture.spread <= check.black_spread:
            self._report_lost("black")
        elif self._still_probes >= check.frozen_probes - 1:
            self._report_lost("frozen")
        elif self._lost is not None:
            self._lost = None
            self._emit(CameraRestored(self.track.participant_id))

    def _report_lost(self, reason: CameraLostReason) -> None:
        if self._lost != reason:
            self._lost = reason
            self._emit(CameraLost(self.track.participant_id, reason))

    def close(self) -> None:
        self.track.on_keyframe_captured = None
        self.track.capture_wanted = False
