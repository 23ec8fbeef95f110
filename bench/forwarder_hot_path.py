"""The forwarding hot path alone: ``PublishedTrack.on_rtp`` to 8 ``DownTrack``s.

No sockets, no SRTP: 60,000 VP8 packets (a keyframe every 300) through one
track to 8 subscribers whose sinks drop them, best of 5 passes, printed in
microseconds per packet. For a change to the hot path, run it under each
tree's code, alternating, and compare the minima (the machine's load moves
both). The package is imported as ``meetwarden``: the editable install's tree,
or another through ``PYTHONPATH`` naming a folder whose ``meetwarden/`` links
to that tree's packages, as the Makefile's ``build/typecheck`` does:

    python bench/forwarder_hot_path.py
"""

from __future__ import annotations

import time

from meetwarden.server.media import forwarder
from meetwarden.server.media.forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.rtp_packets import RtpFields

SUBSCRIBERS = 8
PACKETS = 60_000


class _Sink:
    def send_rtp(self, packet: bytes) -> bool:
        return True


class _Sender:
    ssrc = 1

    def count(self, octets: int) -> None:
        pass

    def set_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        pass


def main() -> None:
    track = PublishedTrack(
        "alice",
        "camera",
        "video",
        Gate(open=True),
        97,
        KeyframeRequester(lambda: True, 0.0),
        300,
        lambda track: None,
    )
    for n in range(SUBSCRIBERS):
        track.add_down(DownTrack(str(n), _Sink(), _Sender(), 100, True))  # type: ignore[arg-type]
    keyframe = b"\x10\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + bytes(1000)
    inter = b"\x10\x11\x02\x00" + bytes(1000)
    packets = [
        RtpFields(1, 97, n & 0xFFFF, 3000 * (n // 10), n % 10 == 9, False, inter)
        if n % 300
        else RtpFields(1, 97, n & 0xFFFF, 3000 * (n // 10), False, False, keyframe)
        for n in range(PACKETS)
    ]
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for packet in packets:
            track.on_rtp(packet)
        best = min(best, time.perf_counter() - started)
    print(f"{forwarder.__file__}: {best / PACKETS * 1e6:.3f} us per packet to {SUBSCRIBERS}")


if __name__ == "__main__":
    main()
