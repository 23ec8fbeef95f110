"""Which simulcast layer a subscriber gets: the smallest that covers its tile, within its bandwidth.

The subscriber says the size it shows a tile at, in device pixels
(``tile_size``); the layer chosen is the smallest whose width and height both
reach it, or the largest when none does, as LiveKit's
``GetSpatialLayerForVideoDimension`` picks the layer covering the requested
dimensions. Without a tile size the largest layer is chosen (a viewer that
says nothing, such as an SDK, gets the full picture, as before simulcast).

That choice is then lowered while its bitrate exceeds the subscriber's
available bandwidth, when one is known (never below the smallest layer: a slow
link gets the smallest picture, not none). A layer's bitrate is not measured
here: it is the target bitrate libwebrtc gives a simulcast stream of that size
(``kSimulcastFormats`` in webrtc's ``video/config/simulcast.cc``), so the cap
is an estimate of what the browser sends, not a reading of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LayerInfo", "choose_layer", "nominal_bitrate"]

# (pixels, target bits per second) from libwebrtc's kSimulcastFormats, largest first.
_TARGET_BITRATES = (
    (1920 * 1080, 4_000_000),
    (1280 * 720, 2_500_000),
    (960 * 540, 1_200_000),
    (640 * 360, 500_000),
    (480 * 270, 350_000),
    (320 * 180, 150_000),
)


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One layer as the chooser sees it: its rid and the size its last keyframe had."""

    rid: str
    width: int
    height: int

    @property
    def bitrate(self) -> int:
        return nominal_bitrate(self.width, self.height)


def nominal_bitrate(width: int, height: int) -> int:
    """What a browser sends for a simulcast layer of this size, in bits per second."""
    pixels = width * height
    for at_least, bitrate in _TARGET_BITRATES:
        if pixels >= at_least:
            return bitrate
    return _TARGET_BITRATES[-1][1]


def choose_layer(
    layers: Sequence[LayerInfo], tile: tuple[int, int] | None, bandwidth: int | None
) -> str | None:
    """The rid to forward, or None when no layer's size is known yet."""
    known = sorted((layer for layer in layers if layer.width > 0), key=lambda x: x.width)
    if not known:
        return None
    index = len(known) - 1
    if tile is not None:
        width, height = tile
        index = next(
            (n for n, layer in enumerate(known) if layer.width >= width and layer.height >= height),
            index,
        )
    if bandwidth is not None:
        while index > 0 and known[index].bitrate > bandwidth:
            index -= 1
    return known[index].rid
