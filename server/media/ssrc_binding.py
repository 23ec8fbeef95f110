"""Learning the SSRCs of simulcast layers from the packets that name them.

With rid simulcast the offer has no ``a=ssrc`` lines: each packet names its
m-line and layer in header extensions (``sdes:mid`` and ``sdes:rtp-stream-id``,
a retransmission ``sdes:repaired-rtp-stream-id``, RFC 8852 3-4, RFC 8843 15).
The first packet of an unknown SSRC that carries them binds that SSRC, as
mediasoup's ``RtpListener::GetProducer`` fills its SSRC table from the first
packet found by MID or RID and Pion's ``handleIncomingSSRC`` reads the mid and
rid of a new SSRC's first packets. Rules, each a refusal of what an honest
browser never sends:

- an SSRC binds only to a mid the offer declared with simulcast layers, and
  only to one of that mid's rids (``read_simulcast``);
- a bound SSRC is never bound again (a packet naming another layer keeps the
  first binding; nothing here is looked up again for it), and a layer that has
  an SSRC keeps it: a second SSRC naming the same (mid, rid) is not bound;
- the table holds at most one media and one retransmission SSRC per declared
  layer (``MAX_LAYERS`` per mid, 8 m-lines at most), so it is bounded by the
  offer, whatever the client sends.

Parsing uses aiortc's own ``RtpPacket.parse`` with a ``HeaderExtensionsMap`` of
the offer's ids, on this rare path only (once per unknown SSRC packet; the
forwarding path never parses extensions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from .simulcast_sdp import MID_URI, RID_URI, RRID_URI, ExtensionIds

__all__ = ["Binding", "SsrcBinding"]


@dataclass(frozen=True, slots=True)
class Binding:
    """What an SSRC carries: a layer (``rid``) of a mid, or its retransmissions."""

    mid: str
    rid: str
    repair: bool


class SsrcBinding:
    """The SSRC -> (mid, rid) table of one publishing connection."""

    def __init__(self, ids: ExtensionIds) -> None:
        extensions = [
            RTCRtpHeaderExtensionParameters(id=ids.mid, uri=MID_URI),
            RTCRtpHeaderExtensionParameters(id=ids.rid, uri=RID_URI),
        ]
        if ids.rrid is not None:
            extensions.append(RTCRtpHeaderExtensionParameters(id=ids.rrid, uri=RRID_URI))
        self._map = HeaderExtensionsMap()
        self._map.configure(RTCRtpParameters(headerExtensions=extensions))
        self.ids = ids
        self._layers: dict[str, tuple[str, ...]] = {}
        self._bound: dict[int, Binding] = {}
        self._ssrc_of: dict[Binding, int] = {}

    def declare(self, layers: Mapping[str, tuple[str, ...]]) -> None:
        """The simulcast mids and their rids, as the latest offer declares them.

        A mid the offer no longer sends (a camera turned off) keeps its bindings:
        turned on again, the browser sends on the same SSRCs, without the mid and
        rid it stops writing once the SSRC was acknowledged by a receiver report.
        """
        self._layers.update(layers)
        for ssrc, binding in list(self._bound.items()):
            if binding.rid not in self._layers.get(binding.mid, ()):
                self.forget(ssrc)

    def forget(self, ssrc: int) -> None:
        binding = self._bound.pop(ssrc, None)
        if binding is not None:
            self._ssrc_of.pop(binding, None)

    def bound(self, ssrc: int) -> Binding | None:
        return self._bound.get(ssrc)

    def ssrc_of(self, mid: str, rid: str, repair: bool = False) -> int | None:
        return self._ssrc_of.get(Binding(mid, rid, repair))

    def __len__(self) -> int:
        return len(self._bound)

    def bind(self, ssrc: int, data: bytes) -> Binding | None:
        """Bind ``ssrc`` from this packet of it, if it names a declared layer; else None."""
        if ssrc in self._bound or not len(data) > 12 or not data[0] & 0x10:
            return None  # bound already, or no header extension (RFC 3550 5.1, X bit)
        try:
            packet = RtpPacket.parse(data, self._map)
        except (ValueError, UnicodeDecodeError):
            return None
        found = packet.extensions
        rids = self._layers.get(found.mid or "", ())
        if found.rtp_stream_id in rids:
            binding = Binding(found.mid or "", found.rtp_stream_id or "", False)
        elif found.repaired_rtp_stream_id in rids:
            binding = Binding(found.mid or "", found.repaired_rtp_stream_id or "", True)
        else:
            return None  # a mid or rid the offer did not declare, or neither named
        if binding in self._ssrc_of:
            return None  # the layer has its SSRC; a second one is not bound
        self._bound[ssrc] = binding
        self._ssrc_of[binding] = ssrc
        return binding
