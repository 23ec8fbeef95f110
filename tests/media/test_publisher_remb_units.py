"""The REMB a publisher is sent, from what its viewers can take, on a clock the test turns."""

from __future__ import annotations

from dataclasses import dataclass

from meetwarden.server.media.publisher import MAX_BITRATE
from meetwarden.server.media.publisher_remb import HOLD, HOLD_UP, RembTrack, ViewerRemb


@dataclass(frozen=True)
class Track:
    source: str
    video: bool


CAMERA = Track("camera", True)
MICROPHONE = Track("microphone", False)
CEILING = MAX_BITRATE["camera"] + MAX_BITRATE["microphone"]


class Viewers:
    """What the most capable viewer of the camera can take (None: no limit known)."""

    def __init__(self) -> None:
        self.most: int | None = None

    def __call__(self, track: RembTrack) -> int | None:
        assert track is CAMERA, "asked only about video"
        return self.most


def test_no_viewer_estimate_means_the_ceiling() -> None:
    remb = ViewerRemb(MAX_BITRATE, Viewers())
    assert remb.bitrate([CAMERA, MICROPHONE], 0.0) == CEILING


def test_without_bandwidth_control_always_the_ceiling() -> None:
    remb = ViewerRemb(MAX_BITRATE, None)
    assert remb.bitrate([CAMERA, MICROPHONE], 0.0) == CEILING


def test_the_viewers_estimate_capped_by_the_ceiling() -> None:
    viewers = Viewers()
    viewers.most = 400_000
    remb = ViewerRemb(MAX_BITRATE, viewers)
    assert remb.bitrate([CAMERA, MICROPHONE], 0.0) == 400_000 + MAX_BITRATE["microphone"]
    viewers.most = 10_000_000
    assert remb.bitrate([CAMERA, MICROPHONE], HOLD_UP) == CEILING


def test_the_value_moves_only_out_of_its_band_and_at_most_once_per_hold() -> None:
    viewers = Viewers()
    viewers.most = 1_000_000
    remb = ViewerRemb(MAX_BITRATE, viewers)
    assert remb.bitrate([CAMERA], 0.0) == 1_000_000
    viewers.most = 1_080_000  # within 10 %: kept
    assert remb.bitrate([CAMERA], 5.0) == 1_000_000
    viewers.most = 600_000
    assert remb.bitrate([CAMERA], 5.5) == 600_000
    viewers.most = 900_000  # up: too soon after the last change
    assert remb.bitrate([CAMERA], 5.5 + HOLD) == 600_000
    assert remb.bitrate([CAMERA], 5.5 + HOLD_UP) == 900_000
    viewers.most = 300_000  # down: sooner
    assert remb.bitrate([CAMERA], 5.5 + HOLD_UP + 1.0) == 900_000
    assert remb.bitrate([CAMERA], 5.5 + HOLD_UP + HOLD) == 300_000
