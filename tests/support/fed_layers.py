"""A simulcast source fed by hand: its layers' packets as a publisher's transport
hands them over, for tests of what a subscriber (or a pipe) is sent.

``layered_source()`` is a ``SimulcastTrack`` of two real ``PublishedTrack`` layers,
"q" (320x180) and "f" (1280x720), each with its own numbering and clock offset
and one sender report at the same NTP instant; ``Layer.feed`` gives a layer one
whole VP8 frame. ``Sink`` and ``Sender`` stand for a ``DownTrack``'s transport and RTP
sender, the sink recording what it writes (the media units share them).
"""

from __future__ import annotations

import struct

from meetwarden.server.media.forwarder import Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.rtp_packets import RtpFields
from meetwarden.server.media.simulcast import SimulcastTrack

__all__ = ["Layer", "Sender", "Sink", "frame", "layered_source"]


class Sink:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_rtp(self, packet: bytes) -> bool:
        self.sent.append(packet)
        return True


class Sender:
    ssrc = 0x5555

    def count(self, octets: int) -> None:
        pass

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        pass


def frame(seq: int, ts: int, size: tuple[int, int] | None, tag: int) -> RtpFields:
    """One packet that is one whole VP8 frame (RFC 7741 4.2-4.3); a keyframe when sized."""
    if size is None:
        body = b"\x10\x11\x02\x00"
    else:
        body = b"\x10\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", *size)
    return RtpFields(1, 97, seq & 0xFFFF, ts & 0xFFFFFFFF, True, False, body + bytes([tag]))


class Layer:
    """A layer of the source and what is fed to it: its own numbering and clock offset."""

    def __init__(self, track: PublishedTrack, size: tuple[int, int], seq: int, ts: int) -> None:
        self.track, self.size, self.seq, self.ts = track, size, seq, ts
        self.plis = 0

    def feed(self, capture: int, keyframe: bool = False, tag: int = 0) -> None:
        """The frame captured at ``capture`` (90 kHz ticks, shared by every layer)."""
        self.seq += 1
        self.track.on_rtp(frame(self.seq, self.ts + capture, self.size if keyframe else None, tag))


def layered_source() -> tuple[SimulcastTrack, dict[str, Layer], Gate]:
    gate = Gate(open=True)
    source = SimulcastTrack("alice", "camera", gate, 97, 0.0, 300, lambda t: None, ("q", "f"))
    layers: dict[str, Layer] = {}
    for rid, size, seq, ts in (("q", (320, 180), 100, 5_000), ("f", (1280, 720), 60_000, 9_000)):
        holder: list[Layer] = []

        def pli(holder: list[Layer] = holder) -> bool:
            holder[0].plis += 1
            return True

        track = PublishedTrack(
            "alice",
            "camera",
            "video",
            gate,
            97,
            KeyframeRequester(pli, 0.0),
            300,
            source.layer_first_packet,
        )
        layers[rid] = Layer(track, size, seq, ts)
        holder.append(layers[rid])
        source.add_layer(rid, track)
    # Sender reports: both layers' clocks at one NTP instant (RFC 3550 6.4.1).
    ntp = 0xE000_0000_0000_0000
    for layer in layers.values():
        layer.track.on_sender_report(ntp, layer.ts + 900_000)
    return source, layers, gate
