"""The simulcast part of a publishing connection: layers bound from their packets.

A mid offered with rid simulcast (``simulcast_sdp``) is published as one
``SimulcastTrack``; its layers have no SSRC in the SDP. A packet on an SSRC no
table knows is offered to ``SsrcBinding``: when it names a declared (mid, rid)
that has no SSRC yet, and carries that mid's payload type, the SSRC becomes
that layer (a ``PublishedTrack`` with its own PLI, NACK and receiver report on
that SSRC) and the packet is forwarded; its retransmission SSRC is routed to
it once both are bound. Anything else stays dropped and counted, as an
undeclared SSRC always was. A connection whose offer has no simulcast never
gets here: its tracks work exactly as before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial

from .errors import MediaError
from .events import Source
from .forwarder import PublishedTrack
from .negotiation import OfferedTrack, PublisherOffer
from .receive_stats import ReceiveStats
from .rtp_packets import RtpFields
from .simulcast import Bandwidth, SimulcastTrack
from .simulcast_sdp import accept_simulcast
from .ssrc_binding import SsrcBinding

__all__ = ["PublisherLayers", "TileLookup"]

TileLookup = Callable[[str, Source], "tuple[int, int] | None"]
"""The size a subscriber (participant id) shows this publisher's source at, or None."""

_VIDEO_CLOCK = 90_000


def _tile_of(tiles: TileLookup, source: Source, subscriber_id: str) -> tuple[int, int] | None:
    return tiles(subscriber_id, source)


class PublisherLayers(ABC):
    """Mixed into ``PublisherConnection``: what it needs for simulcast sources."""

    participant_id: str
    offer: PublisherOffer | None
    tracks: dict[str, PublishedTrack]
    _by_ssrc: dict[int, PublishedTrack]
    _by_rtx_ssrc: dict[int, tuple[PublishedTrack, int]]
    _retransmission: dict[str, tuple[int | None, bool]]
    _stats: dict[int, ReceiveStats]
    _gate_of: Callable[[Source], object]
    _on_first_packet: Callable[[PublishedTrack], None]
    _keyframe_interval: float
    _replay_limit: int
    unknown_packets: int

    def __init__(self, bandwidth: Bandwidth | None, tiles: TileLookup | None) -> None:
        self._bandwidth = bandwidth
        self._tiles = tiles
        self._binding: SsrcBinding | None = None

    @abstractmethod
    def _new_track(
        self,
        mid: str,
        source: Source,
        kind: str,
        media_ssrc: int,
        payload_type: int,
        on_first_packet: Callable[[PublishedTrack], None],
    ) -> PublishedTrack:
        """A track on one SSRC, with its PLI and NACK (``PublisherConnection``'s)."""

    @abstractmethod
    def _forget(self, track: PublishedTrack) -> None:
        """Route none of the track's SSRCs (``PublisherConnection``'s)."""

    @abstractmethod
    def on_rtp(self, data: bytes) -> None:
        """A decrypted RTP packet of this connection (``PublisherConnection``'s)."""

    # ------------------------------------------------------------------ negotiation

    def _check_extension_ids(self, offer: PublisherOffer) -> None:
        """Refuse a re-offer that renames the extensions bound SSRCs were read with."""
        binding = self._binding
        ids = offer.extension_ids
        if binding is not None and ids is not None and ids != binding.ids:
            raise MediaError("bad_offer", "A re-offer cannot change the simulcast extmap ids.")

    def _declare_layers(self, offer: PublisherOffer) -> None:
        layers = dict(offer.layers)
        if self._binding is None and offer.extension_ids is not None and layers:
            self._binding = SsrcBinding(offer.extension_ids)
        if self._binding is not None:
            self._binding.declare(layers)

    def _accept_layers(self, answer_sdp: str, offer: PublisherOffer) -> str:
        return accept_simulcast(answer_sdp, dict(offer.layers), offer.extension_ids)

    def _new_source(self, wanted: OfferedTrack, payload_type: int) -> PublishedTrack:
        if not wanted.rids:
            assert wanted.ssrc is not None
            return self._new_track(
                wanted.mid,
                wanted.source,
                wanted.kind,
                wanted.ssrc,
                payload_type,
                self._on_first_packet,
            )
        return SimulcastTrack(
            self.participant_id,
            wanted.source,
            self._gate_of(wanted.source),  # type: ignore[arg-type]
            payload_type,
            self._keyframe_interval,
            self._replay_limit,
            self._on_first_packet,
            wanted.rids,
            self._bandwidth,
            None if self._tiles is None else partial(_tile_of, self._tiles, wanted.source),
        )

    @staticmethod
    def _set_payload_type(track: PublishedTrack, payload_type: int) -> None:
        track.payload_type = payload_type
        if isinstance(track, SimulcastTrack):
            for layer in track.layers.values():
                layer.payload_type = payload_type

    def _forget_layers(self, mid: str) -> None:
        track = self.tracks.get(mid)
        if isinstance(track, SimulcastTrack):
            for layer in track.layers.values():
                for ssrc in [s for s, t in self._by_ssrc.items() if t is layer]:
                    self._stats.pop(ssrc, None)
                self._forget(layer)

    # ------------------------------------------------------------------ media

    def _bind(self, fields: RtpFields, data: bytes) -> bool:
        """Bind an unknown SSRC from its packet; True when the packet was handled here."""
        binding_table = self._binding
        assert binding_table is not None
        # Bound before and its source published again: the layer is made anew.
        binding = binding_table.bound(fields.ssrc) or binding_table.bind(fields.ssrc, data)
        if binding is None:
            return False
        track = self.tracks.get(binding.mid)
        if not isinstance(track, SimulcastTrack):
            return False  # its mid is not sending now
        rtx_payload_type, _ = self._retransmission.get(binding.mid, (None, False))
        if binding.repair:
            if fields.payload_type != rtx_payload_type:
                binding_table.forget(fields.ssrc)  # not a retransmission: not this layer's
                return False
            layer = track.layers.get(binding.rid)
            if layer is not None and layer.repair is not None and rtx_payload_type is not None:
                self._by_rtx_ssrc[fields.ssrc] = (layer, rtx_payload_type)
            return False  # routed now (or dropped): the caller handles it as RTX
        if fields.payload_type != track.payload_type:
            binding_table.forget(fields.ssrc)  # the codec was not negotiated: dropped
            return False
        if binding.rid in track.layers:
            return False
        layer = self._new_track(
            binding.mid,
            track.source,
            "video",
            fields.ssrc,
            track.payload_type,
            track.layer_first_packet,
        )
        self._by_ssrc[fields.ssrc] = layer
        self._stats[fields.ssrc] = ReceiveStats(_VIDEO_CLOCK)
        rtx_ssrc = binding_table.ssrc_of(binding.mid, binding.rid, repair=True)
        if rtx_ssrc is not None and layer.repair is not None and rtx_payload_type is not None:
            self._by_rtx_ssrc[rtx_ssrc] = (layer, rtx_payload_type)
        track.add_layer(binding.rid, layer)
        self.on_rtp(data)  # now a known SSRC: forwarded as any other
        return True

    def _reselect_layers(self) -> None:
        for track in self.tracks.values():
            if isinstance(track, SimulcastTrack):
                track.tick()
