"""A source published in simulcast layers, and which layer each subscriber gets.

A ``SimulcastTrack`` is what the room and the subscribers see of a camera (or
screen) sent in layers: one ``PublishedTrack`` per mid, as without simulcast.
Its layers are ordinary ``PublishedTrack``s, one per rid, each with its own
SSRC, cache, loss repair and keyframe requester (a PLI names the layer's SSRC),
made by the publisher when the layer's first packet binds its SSRC
(``ssrc_binding``). All layers share the source's ``Gate``: a closed gate
closes every layer on the very next packet, as it closes a single track.

Each subscriber's ``DownTrack`` is in the ``downs`` of exactly one layer. The
layer it should get is chosen by ``layer_choice`` from the tile size it says
and its available bandwidth; a change is made at a keyframe of the target
layer (requested with a PLI on that layer), as LiveKit's forwarder and
mediasoup's ``SimulcastConsumer`` switch spatial layers only on a keyframe.
At the switch the DownTrack continues its numbering at last + 1 (``resume``,
as after a closed gate) and moves its timestamp offset from the old layer's
clock to the new one's: the layers share the source's 90 kHz clock but start
at random offsets (RFC 3550 5.1), which the layers' sender reports relate
(same NTP clock, RFC 3550 6.4.1); before both have one, the offset is
estimated from the old layer's last keyframe and the wall clock, as LiveKit's
``rtpmunger`` does when it has no reference.

A layer lowered for bandwidth is not raised again for a while (``RAISE_HOLD``):
the loss-based limit grows by 5 % a second whenever the link loses nothing
(``bandwidth``), whatever the subscriber is actually sent, so after a few
seconds on a small layer it exceeds what the next layer takes although that
layer never crossed the link. With nothing to probe the link (LiveKit sends
padding probes before it raises a layer, ``pkg/sfu/streamallocator``), a raise
is the probe, as a resume is for a paused stream: one that the link cannot
carry is lowered again, and the wait before the next raise doubles, up to
``MAX_RAISE_HOLD``. A raise with no limit known (none yet, or the limit grew
past its ceiling and was dropped) is not held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .events import Source
from .forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from .layer_choice import LayerInfo, choose_layer
from .packet_cache import CachedPacket, PacketCache

__all__ = ["Bandwidth", "SimulcastTrack"]

Bandwidth = Callable[[str], int | None]
"""A subscriber's available bits per second, by participant id, or None when unknown."""
TileOf = Callable[[str], tuple[int, int] | None]
"""The size a subscriber (by participant id) shows this source at, or None if unsaid."""

_CLOCK_RATE = 90_000
_MAX_TILES = 1024
RAISE_HOLD = 30.0
"""Seconds after a layer was lowered for bandwidth before it may be raised while a limit
is known (a 300 kbit/s link that lost the 640x360 layer loses it again: a raise costs
the viewer seconds of frozen video)."""
MAX_RAISE_HOLD = 240.0
"""The longest wait between raises that the link could not carry."""
FAILED_WITHIN = 10.0
"""A lowering this soon after a raise means the raise failed: the next wait doubles."""


class SimulcastTrack(PublishedTrack):
    """A video source in layers: forwards one layer to each subscriber."""

    def __init__(
        self,
        participant_id: str,
        source: Source,
        gate: Gate,
        payload_type: int,
        keyframe_interval: float,
        replay_limit: int,
        on_first_packet: Callable[[PublishedTrack], None],
        rids: tuple[str, ...],
        bandwidth: Bandwidth | None = None,
        tile_of: TileOf | None = None,
    ) -> None:
        """``tile_of`` None: the sizes given to ``set_tile`` (kept here) are used."""
        self.layers: dict[str, PublishedTrack] = {}
        self._check_layer: PublishedTrack | None = None
        self._capture_callback: Callable[[list[bytes]], None] | None = None
        self._capture_wanted = False
        super().__init__(
            participant_id,
            source,
            "video",
            gate,
            payload_type,
            KeyframeRequester(self._request_keyframes, keyframe_interval),
            replay_limit,
            on_first_packet,
        )
        self.rids = rids
        self.bandwidth: Bandwidth = bandwidth or (lambda _: None)
        self.tiles: dict[str, tuple[int, int]] = {}  # by subscriber id, without tile_of
        self.tile_of: TileOf = tile_of or self.tiles.get
        self.current: dict[DownTrack, PublishedTrack | None] = {}
        self.target: dict[DownTrack, PublishedTrack] = {}
        self._last_keyframe: dict[PublishedTrack, tuple[int, float]] = {}  # (timestamp, time)
        self._counted: dict[PublishedTrack, int] = {}  # packets at the last reselect
        self._idle: set[PublishedTrack] = set()
        self._holds: dict[DownTrack, _RaiseHold] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.switches = 0

    # ------------------------------------------------------------------ layers

    def add_layer(self, rid: str, layer: PublishedTrack) -> None:
        """A layer's SSRC was bound: forward it from now on."""
        self.layers[rid] = layer
        layer.on_forward_keyframe = self._on_layer_keyframe
        layer.on_keyframe_captured = self._capture_callback
        if self._check_layer is None:
            self._check_layer = layer
            layer.capture_wanted = self._capture_wanted
        if self.gate.open:
            layer.keyframes.request(urgent=True)  # its size is known from its first keyframe
        self.reselect()

    def layer_first_packet(self, _layer: PublishedTrack) -> None:
        """A layer's first packet: the source is published (once, whichever layer is first)."""
        if self._on_first_packet is not None:
            callback, self._on_first_packet = self._on_first_packet, None
            callback(self)

    def _infos(self) -> list[LayerInfo]:
        """The layers to choose from: those that sent since the last reselect, when any did
        (a browser stops sending a layer its bandwidth cannot carry)."""
        active = [(rid, t) for rid, t in self.layers.items() if t not in self._idle]
        return [LayerInfo(rid, t.width, t.height) for rid, t in active or self.layers.items()]

    def tick(self) -> None:
        """Every second or so: note the layers that sent nothing since, and choose again."""
        counted = {layer: layer.packets_received for layer in self.layers.values()}
        self._idle = {t for t, n in counted.items() if n == self._counted.get(t, -1)}
        self._counted = counted
        self.reselect()

    def reselect(self) -> None:
        """Choose each subscriber's layer again (a tile, a bandwidth or a layer changed)."""
        if self.ended:
            return
        infos = self._infos()
        for down in list(self.current):
            self._select(down, infos)

    def _select(self, down: DownTrack, infos: list[LayerInfo]) -> None:
        tile = self.tile_of(down.subscriber_id)
        bandwidth = self.bandwidth(down.subscriber_id)
        rid = choose_layer(infos, tile, bandwidth)
        if rid is None:
            if not self.layers:
                return
            rid = next(iter(self.layers))  # no size known yet: the first layer bound
        layer = self.layers[rid]
        current = self.current.get(down)
        held = self.target.get(down) or current
        if bandwidth is not None and held is not None and held.width > 0:
            capped = rid != choose_layer(infos, tile, None)  # the bandwidth lowered the choice
            layer = self._held(down, held, layer, capped, {info.rid for info in infos})
        if current is None:
            self.current[down] = layer
            layer.add_down(down)  # the cached run since a keyframe, or a requested keyframe
        elif layer is current:
            self.target.pop(down, None)
        else:  # asked again at each choice until it comes (the requester spaces them)
            self.target[down] = layer
            if self.gate.open:
                layer.keyframes.request()

    def _held(
        self,
        down: DownTrack,
        held: PublishedTrack,
        chosen: PublishedTrack,
        capped: bool,
        usable: set[str],
    ) -> PublishedTrack:
        """The layer to aim for while a limit is known: ``chosen``, unless it raises
        ``held`` (the layer forwarded or awaited) within the hold after a lowering for
        bandwidth (``capped``: the limit, not the tile, made ``chosen`` smaller)."""
        now = self.clock()
        hold = self._holds.setdefault(down, _RaiseHold())
        if chosen.width < held.width and capped:  # lowered for bandwidth: hold the next raise
            failed = hold.raised_at is not None and now - hold.raised_at < FAILED_WITHIN
            hold.wait = min(hold.wait * 2, MAX_RAISE_HOLD) if failed else RAISE_HOLD
            hold.raise_after, hold.raised_at = now + hold.wait, None
            return chosen
        if chosen.width > held.width:
            held_usable = any(t is held for rid, t in self.layers.items() if rid in usable)
            if now < hold.raise_after and held_usable:
                return held
            hold.raised_at = now
        return chosen

    def _on_layer_keyframe(self, layer: PublishedTrack, packet: CachedPacket) -> None:
        """A keyframe of ``layer`` is about to be forwarded: switch whoever waits for it."""
        self._last_keyframe[layer] = (packet.timestamp, time.monotonic())
        for down, target in list(self.target.items()):
            if target is layer:
                del self.target[down]
                self._switch(down, layer, packet)

    def _switch(self, down: DownTrack, layer: PublishedTrack, packet: CachedPacket) -> None:
        old = self.current.get(down)
        if old is None or old is layer:
            return
        old.remove_down(down)
        down.switch(self._ts_delta(old, layer, packet))
        layer.downs = (*layer.downs, down)  # this keyframe is the first packet it gets
        if layer.sender_report is not None:
            down.set_clock(*layer.sender_report)
        self.current[down] = layer
        self.switches += 1

    def _ts_delta(self, old: PublishedTrack, new: PublishedTrack, packet: CachedPacket) -> int:
        """What moves a subscriber's timestamp offset from ``old``'s clock to ``new``'s."""
        if old.sender_report is not None and new.sender_report is not None:
            (old_ntp, old_rtp), (new_ntp, new_rtp) = old.sender_report, new.sender_report
            seconds = (new_ntp - old_ntp) / 2**32  # NTP timestamps: 32.32 fixed point
            return (old_rtp - new_rtp + round(seconds * _CLOCK_RATE)) & 0xFFFFFFFF
        last = self._last_keyframe.get(old)
        if last is None:
            return 0
        timestamp, at = last
        now_on_old = timestamp + round((time.monotonic() - at) * _CLOCK_RATE)
        return (now_on_old - packet.timestamp) & 0xFFFFFFFF

    def layer_of(self, down: DownTrack) -> str | None:
        """The rid a subscriber is forwarded now."""
        layer = self.current.get(down)
        return next((rid for rid, t in self.layers.items() if t is layer), None)

    def can_lower(self, down: DownTrack) -> bool:
        """Whether a smaller layer than the one ``down`` gets (or waits for) has been seen:
        a subscriber short of bandwidth is moved to it before its video is paused."""
        layer = self.target.get(down) or self.current.get(down)
        if layer is None:
            return False
        return any(0 < other.width < layer.width for other in self.layers.values())

    def lowering(self, down: DownTrack) -> bool:
        """Whether ``down`` waits for a keyframe of a smaller layer than the one it gets:
        until then what it is sent is the larger layer's rate, which the switch ends."""
        target, current = self.target.get(down), self.current.get(down)
        return target is not None and current is not None and target.width < current.width

    def set_tile(self, subscriber_id: str, width: int, height: int) -> None:
        """The size (device pixels) a subscriber shows this source at (without ``tile_of``)."""
        if subscriber_id in self.tiles or len(self.tiles) < _MAX_TILES:
            self.tiles[subscriber_id] = (width, height)
        self.retile(subscriber_id)

    def retile(self, subscriber_id: str) -> None:
        """A subscriber's tile size changed: choose its layer again."""
        infos = self._infos()
        for down in list(self.current):
            if down.subscriber_id == subscriber_id:
                self._select(down, infos)

    # ------------------------------------------------------------------ as a PublishedTrack

    def add_down(self, down: DownTrack) -> None:
        self.current[down] = None
        self.downs = (*self.downs, down)
        self._select(down, self._infos())

    def remove_down(self, down: DownTrack) -> None:
        layer = self.current.pop(down, None)
        self.target.pop(down, None)
        self._holds.pop(down, None)
        if layer is not None:
            layer.remove_down(down)
        self.downs = tuple(d for d in self.downs if d is not down)

    def on_nack(self, down: DownTrack, out_sequence_numbers: list[int]) -> None:
        layer = self.current.get(down)
        if layer is not None:
            layer.on_nack(down, out_sequence_numbers)

    def cache_for(self, down: DownTrack) -> PacketCache:
        layer = self.current.get(down)
        return self.cache if layer is None else layer.cache

    def _request_keyframes(self) -> bool:
        """A subscriber's PLI (or the camera check): a keyframe of every layer in use."""
        wanted = {layer for layer in self.current.values() if layer is not None}
        wanted.update(self.target.values())
        if self.capture_wanted and self._check_layer is not None:
            wanted.add(self._check_layer)
        for layer in wanted:
            layer.keyframes.request(urgent=True)  # this requester already spaced them
        return bool(wanted)

    def gate_opened(self) -> None:
        for layer in self.layers.values():
            layer.gate_opened()

    def gate_closed(self) -> None:
        for layer in self.layers.values():
            layer.gate_closed()

    def end(self) -> None:
        super().end()
        for layer in self.layers.values():
            layer.end()
        self.current.clear()
        self.target.clear()

    # The camera check reads and sets these: they are the check layer's (any layer decodes).

    @property  # type: ignore[override]
    def frames(self) -> int:
        return max((layer.frames for layer in self.layers.values()), default=0)

    @frames.setter
    def frames(self, _value: int) -> None:
        pass  # counted by the layers

    @property  # type: ignore[override]
    def capture_wanted(self) -> bool:
        layer = self._check_layer
        return layer.capture_wanted if layer is not None else self._capture_wanted

    @capture_wanted.setter
    def capture_wanted(self, value: bool) -> None:
        self._capture_wanted = value
        if self._check_layer is not None:
            self._check_layer.capture_wanted = value

    @property  # type: ignore[override]
    def on_keyframe_captured(self) -> Callable[[list[bytes]], None] | None:
        return self._capture_callback

    @on_keyframe_captured.setter
    def on_keyframe_captured(self, callback: Callable[[list[bytes]], None] | None) -> None:
        self._capture_callback = callback
        for layer in self.layers.values():
            layer.on_keyframe_captured = callback


@dataclass(slots=True)
class _RaiseHold:
    """When a subscriber's layer may next be raised while a limit is known."""

    raise_after: float = 0.0
    wait: float = RAISE_HOLD
    raised_at: float | None = None
    """When it was last raised, until the next lowering."""
