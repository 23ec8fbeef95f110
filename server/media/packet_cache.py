"""Per-track packet cache: answers NACKs and starts new subscribers from the last keyframe.

As Galène's up-track cache (rtpconn ``gotNACK``, rtpwriter ``sendSequence``):
a ring indexed by sequence number holds the packets received while the gate
was open; the sequence number of the newest keyframe start tells a joining
subscriber where a decodable run begins. The cache is emptied whenever the gate
closes, so that nothing captured while forwarding was forbidden can ever be
replayed (a screen grabbed before the grant, audio spoken while muted).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CachedPacket", "PacketCache"]


class CachedPacket(NamedTuple):
    """One received packet as the forwarder keeps it (publisher's numbering)."""

    sequence_number: int
    timestamp: int
    marker: bool
    padding: bool
    body: bytes
    keyframe: bool


class PacketCache:
    """A ring of the last ``size`` packets plus where the newest keyframe starts."""

    __slots__ = ("_last", "_ring", "_size", "keyframe_sequence_number")

    def __init__(self, size: int) -> None:
        self._size = size
        self._ring: list[CachedPacket | None] = [None] * size
        self._last: int | None = None
        self.keyframe_sequence_number: int | None = None

    def clear(self) -> None:
        self._ring = [None] * self._size
        self._last = None
        self.keyframe_sequence_number = None

    def add(self, packet: CachedPacket) -> None:
        seq = packet.sequence_number
        self._ring[seq % self._size] = packet
        last = self._last
        if last is None or 0 < ((seq - last) & 0xFFFF) < 0x8000:
            self._last = seq
        if packet.keyframe:
            self.keyframe_sequence_number = seq

    def get(self, sequence_number: int) -> CachedPacket | None:
        packet = self._ring[sequence_number % self._size]
        if packet is not None and packet.sequence_number == sequence_number:
            return packet
        return None

    def since_keyframe(self, limit: int) -> list[CachedPacket] | None:
        """The packets from the newest keyframe to the newest packet, or None.

        None when there is no keyframe, when the run is longer than ``limit``
        (better to ask the publisher for a fresh keyframe than to burst), or
        when a packet of the run is missing (a decoder would fail on it).
        """
        start, last = self.keyframe_sequence_number, self._last
        if start is None or last is None:
            return None
        count = ((last - start) & 0xFFFF) + 1
        if count > min(limit, self._size):
            return None
        run = []
        for offset in range(count):
            packet = self.get((start + offset) & 0xFFFF)
            if packet is None:
                return None
            run.append(packet)
        return run
