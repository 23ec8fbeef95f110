"""Synthetic media for tests, bots and the benchmark: moving pictures and tones.

``SyntheticVideoTrack`` paints a moving texture and, on its top row, the frame
number as 16 black or white blocks, so a receiver can tell which frame it
decoded (``read_frame_number``) and, in the same process, how long after
capture (``capture_times``). Patterns ``frozen`` and ``black`` imitate a camera
that stopped moving or sends black. ``SyntheticAudioTrack`` is a sine tone.
Both pace themselves in real time, as a capture device would.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from typing import Literal

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

__all__ = ["SyntheticAudioTrack", "SyntheticVideoTrack", "read_frame_number"]

VIDEO_CLOCK = 90000
_STAMP_BITS = 16
_BLOCK = 16
Pattern = Literal["moving", "frozen", "black"]


def _texture(width: int, height: int) -> np.ndarray:
    """A picture with structure at every scale, twice as wide as the frame (it scrolls)."""
    y, x = np.mgrid[0:height, 0 : 2 * width]
    wave = 60 * np.sin(x / 23.0) * np.cos(y / 17.0) + 40 * np.sin((x + 2 * y) / 61.0)
    checker = ((x // 40 + y // 40) % 2) * 50
    texture: np.ndarray = np.clip(110 + wave + checker, 16, 235).astype(np.uint8)
    return texture


class SyntheticVideoTrack(MediaStreamTrack):
    """A camera: ``width`` x ``height`` at ``fps``, moving, frozen or black."""

    kind = "video"

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        pattern: Pattern = "moving",
    ) -> None:
        super().__init__()
        self.width, self.height, self.fps, self.pattern = width, height, fps, pattern
        self.frames_sent = 0
        self.capture_times: dict[int, float] = {}
        self._start: float | None = None
        self._texture = _texture(width, height)
        self._yuv = np.full((height * 3 // 2, width), 128, np.uint8)
        if pattern == "black":
            self._yuv[:height] = 16

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = self.frames_sent
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + index / self.fps
        if due > now:
            await asyncio.sleep(due - now)
        self.frames_sent += 1
        if self.pattern != "black":
            shift = 0 if self.pattern == "frozen" else (index * 4) % self.width
            self._yuv[: self.height] = self._texture[:, shift : shift + self.width]
            self._stamp(0 if self.pattern == "frozen" else index)
        frame = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        frame.pts = index * (VIDEO_CLOCK // self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.capture_times[index] = time.monotonic()
        if len(self.capture_times) > 4 * self.fps:
            del self.capture_times[min(self.capture_times)]
        return frame

    def _stamp(self, number: int) -> None:
        for bit in range(_STAMP_BITS):
            value = 235 if (number >> bit) & 1 else 16
            self._yuv[0:_BLOCK, bit * _BLOCK : (bit + 1) * _BLOCK] = value


def read_frame_number(frame: av.VideoFrame) -> int:
    """The frame number painted by SyntheticVideoTrack (modulo 2**16)."""
    plane = frame.planes[0]
    rows = np.frombuffer(bytes(plane), np.uint8).reshape(frame.height, plane.line_size)
    number = 0
    for bit in range(_STAMP_BITS):
        block = rows[4:12, bit * _BLOCK + 4 : bit * _BLOCK + 12]
        if block.mean() > 125:
            number |= 1 << bit
    return number


class SyntheticAudioTrack(MediaStreamTrack):
    """A microphone: a sine tone, 20 ms frames of 48 kHz mono."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, sample_rate: int = 48000) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.samples = sample_rate // 50
        self.frames_sent = 0
        self._start: float | None = None
        t = np.arange(sample_rate) / sample_rate
        cycle = 0.3 * np.sin(2 * math.pi * frequency * t)
        self._second = (cycle * 32767).astype(np.int16)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = self.frames_sent
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + index * self.samples / self.sample_rate
        if due > now:
            await asyncio.sleep(due - now)
        self.frames_sent += 1
        offset = (index * self.samples) % self.sample_rate
        chunk = self._second[offset : offset + self.samples]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = index * self.samples
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        return frame
