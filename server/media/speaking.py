"""Who is speaking, decided on the server from the audio levels microphones send.

A publisher's audio packets carry their level (RFC 6464, ``ssrc-audio-level``:
0 to 127, in -dBov, 0 the loudest) when the answer kept the extension; aiortc
and browsers write it for every packet. Each microphone track has a
``LevelMeter`` fed on the hot path (one element read, two additions), and the
room's ticker closes a window every ``WINDOW_SECONDS``, as LiveKit's audio
level observer does (livekit/livekit-server ``pkg/sfu/audio/audiolevel.go``,
``DefaultAudioLevelConfig``: active at -35 dBov or louder, a 400 ms window, an
exponential moving average over two windows, factor 2 / (2 + 1)). A window
counts its loudest active level weighted by how much of the window was active
(LiveKit's activity weight, ``20 * log10(active / window)`` in dB), or silence
if voice filled less than a fifth of it, so a click is not speech. LiveKit asks
for 40 %; a fifth also counts short syllables, and Chromium's fake microphone
(80 ms beeps about every 400 ms, as measured at this server).

Hysteresis, so that a voice near the threshold does not make the indicator
flicker: speaking starts when the smoothed level reaches ``START_LEVEL`` and
stops only once it falls below ``STOP_LEVEL``, 10 dB lower (the same idea as
Jitsi's dominant speaker identification, which decides on several time scales
and changes its mind only past a margin: jitsi-utils
``DominantSpeakerIdentification``).

The gate decides before any level does: a meter whose gate is closed (muted by
policy, never opened) is emptied at every window and reports silence, whatever
its packets claim; packets are not even read while it is closed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .header_extensions import find_element

__all__ = [
    "ACTIVE_LEVEL",
    "START_LEVEL",
    "STOP_LEVEL",
    "WINDOW_SECONDS",
    "LevelMeter",
    "linear",
    "speakers",
]

WINDOW_SECONDS = 0.4
"""One observation window, and the most often speaking changes are reported."""
FRAME_MS = 20
"""The audio one packet carries: Opus's default frame, what aiortc and browsers send."""
ACTIVE_LEVEL = 35
"""-35 dBov or louder is voice (LiveKit's ``ActiveLevel``)."""
MIN_ACTIVE_FRACTION = 0.2
"""Of a window, how much must be voice for it to count (LiveKit's ``MinPercentile``: 40)."""
SMOOTHING = 2 / (2 + 1)
"""An exponential moving average over two windows (LiveKit's ``SmoothIntervals`` 2)."""


def linear(level: int) -> float:
    """An RFC 6464 level (-dBov) as a linear amplitude, 1.0 the loudest."""
    return 10.0 ** (-level / 20.0)


START_LEVEL = linear(ACTIVE_LEVEL)
STOP_LEVEL = linear(ACTIVE_LEVEL + 10)


class LevelMeter:
    """One microphone's audio levels: the current window, the smoothed level, the verdict."""

    __slots__ = ("_active_ms", "_loudest", "ext_id", "smoothed", "speaking")

    def __init__(self, ext_id: int) -> None:
        """``ext_id``: the id the publisher's offer gave ``ssrc-audio-level``."""
        self.ext_id = ext_id
        self._active_ms = 0
        self._loudest = 127
        self.smoothed = 0.0
        self.speaking = False

    def observe(self, packet: bytes) -> None:
        """One RTP packet of the microphone (hot path: a malformed block reads as nothing)."""
        value = find_element(packet, self.ext_id)
        if value is None:
            return
        level = value[0] & 0x7F  # RFC 6464 3: the top bit is the voice-activity flag
        if level <= ACTIVE_LEVEL:
            self._active_ms += FRAME_MS
            if level < self._loudest:
                self._loudest = level

    def close_window(self, window_ms: float) -> bool:
        """The window ended (``window_ms`` long): smooth, decide, start the next one."""
        fraction = min(self._active_ms / window_ms, 1.0) if window_ms > 0 else 0.0
        target = linear(self._loudest) * fraction if fraction >= MIN_ACTIVE_FRACTION else 0.0
        self.smoothed += SMOOTHING * (target - self.smoothed)
        self._active_ms = 0
        self._loudest = 127
        threshold = STOP_LEVEL if self.speaking else START_LEVEL
        self.speaking = self.smoothed >= threshold
        return self.speaking

    def reset(self) -> None:
        """Silence from here on: the gate closed, or the track is new."""
        self._active_ms = 0
        self._loudest = 127
        self.smoothed = 0.0
        self.speaking = False


def speakers(meters: Iterable[tuple[str, bool, LevelMeter]], window_ms: float) -> tuple[str, ...]:
    """Close every meter's window; the participants speaking now, sorted.

    ``meters``: (participant, whether the microphone's gate is open, its meter). A
    closed gate empties the meter, and its participant is never among the speakers.
    """
    speaking: list[str] = []
    for participant_id, gate_open, meter in meters:
        if not gate_open:
            meter.reset()
        elif meter.close_window(window_ms):
            speaking.append(participant_id)
    return tuple(sorted(speaking))
