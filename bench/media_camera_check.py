"""What the camera check costs: one decoded keyframe per probe, against decoding every frame.

Encodes the synthetic 640x480 camera with aiortc's VP8 encoder (the RTP
payloads a publisher sends), then times ``camera_monitor.decode_picture`` on
keyframes and a plain VP8 decoder on every frame of a 30 fps stream. Prints
the CPU share of one camera for the probe (every ``--probe-interval`` s) and
for decoding everything, and their ratio.

    python bench/media_camera_check.py
"""

from __future__ import annotations

import argparse
import asyncio
import time

import av
from aiortc.codecs.vpx import Vp8Encoder

from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media.camera_monitor import decode_picture
from meetwarden.server.media.rtp_packets import vp8_depayload


async def frames(count: int) -> list[av.VideoFrame]:
    camera = SyntheticVideoTrack(640, 480, 1000)  # no pacing needed here
    return [await camera.recv() for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keyframes", type=int, default=40)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--probe-interval", type=float, default=3.0)
    args = parser.parse_args()
    pictures = asyncio.run(frames(max(args.keyframes, args.frames)))
    encoder = Vp8Encoder()
    keyframes = [
        encoder.encode(frame, force_keyframe=True)[0] for frame in pictures[: args.keyframes]
    ]
    encoder = Vp8Encoder()
    stream = [encoder.encode(frame)[0] for frame in pictures[: args.frames]]

    started = time.process_time()
    for payloads in keyframes:
        assert decode_picture(payloads) is not None
    per_probe = (time.process_time() - started) / len(keyframes)

    decoder = av.CodecContext.create("vp8", "r")
    started = time.process_time()
    for payloads in stream:
        decoder.decode(av.Packet(vp8_depayload(payloads)))
    per_frame = (time.process_time() - started) / len(stream)

    probe_share = per_probe / args.probe_interval
    full_share = per_frame * 30
    print(f"probe (decode one 640x480 keyframe + luma statistics): {per_probe * 1000:.2f} ms CPU")
    print(
        f"  one probe every {args.probe_interval:g} s:"
        f" {probe_share * 100:.3f} % of a core per camera"
    )
    print(
        f"decoding every frame at 30 fps: {per_frame * 1000:.2f} ms per frame,"
        f" {full_share * 100:.2f} % of a core per camera"
    )
    print(f"ratio: the probe costs {full_share / probe_share:.0f}x less than decoding everything")
    print("(plus on the RTP path: one marker-bit test per packet for the frame rate)")


if __name__ == "__main__":
    main()
