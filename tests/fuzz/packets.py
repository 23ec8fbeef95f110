"""Fuzz targets for decrypted media from an authenticated peer: RTP, RTCP, VP8 keyframes.

Inputs of ``rtp`` and ``rtcp`` are short sessions (``session``): packets in
order, each from the publisher (RTP or RTCP) or from the subscriber (RTCP), on
a fresh pipeline, so that a crash that needs state replays on its own.

``rtp``: what the seam hands the forwarder for every packet of a publisher
(``PublisherConnection.on_rtp``: the server's own parsing in ``rtp_packets``,
the SSRC table, receive statistics, the track's keyframe and capture logic,
the header rewrite and SRTP protect toward a subscriber). The seam drops and
logs a packet whose handling raises; the promise checked here is stricter:
nothing raises, so no packet costs a traceback in the log.

``rtcp``: a publisher's RTCP through the seam's interception (sender reports
read, the rest to aiortc) and a subscriber's through aiortc's router to the
seam's feedback interception (NACKs answered from the cache, PLI/FIR passed
on as keyframe requests). Nothing raises.

``vp8_keyframe``: the camera check's decoder (``camera_monitor.decode_picture``)
on a captured keyframe: a Picture or None, never an exception, and no decode
that grows the process by more than ``MEMORY_LIMIT``.
"""

from __future__ import annotations

import resource
import struct
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from meetwarden.server.media.camera_monitor import decode_picture

from .harness import CrashError, Harness, Target, frames, joined, mutated_bytes
from .wiring import (
    AUDIO_PT,
    AUDIO_SSRC,
    FORWARDED_AUDIO_SSRC,
    FORWARDED_VIDEO_SSRC,
    VIDEO_PT,
    VIDEO_SSRC,
    Pipeline,
)

__all__ = ["RTCP", "RTP", "VP8_KEYFRAME", "rtcp_packets", "rtp_packets", "session"]

MEMORY_LIMIT = 64 * 1024 * 1024


def _rtp(
    first: int, marker_pt: int, seq: int, ts: int, ssrc: int, extension: bytes, body: bytes
) -> bytes:
    return struct.pack("!BBHII", first, marker_pt, seq, ts, ssrc) + extension + body


def rtp_packets() -> st.SearchStrategy[bytes]:
    """RTP packets on the pipeline's SSRCs and payload types, with fuzzed fields."""
    vp8_start = st.sampled_from([b"\x10", b"\x90\x80\x01", b"\x90\xe0\x81\x02\x03\x04", b"\x00"])
    body = st.one_of(
        st.binary(max_size=40),
        st.tuples(vp8_start, st.binary(max_size=30)).map(lambda parts: parts[0] + parts[1]),
        st.binary(min_size=1300, max_size=1480),
    )
    return st.builds(
        _rtp,
        st.integers(0, 255).map(lambda b: (b & 0x3F) | 0x80),
        st.tuples(st.booleans(), st.sampled_from([AUDIO_PT, VIDEO_PT, 0, 127])).map(
            lambda m: (0x80 if m[0] else 0) | m[1]
        ),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFFFFFF),
        st.sampled_from([AUDIO_SSRC, VIDEO_SSRC, 0]),
        st.binary(max_size=24),
        body,
    )


def _rtcp(kind: int, count: int, length: int | None, body: bytes) -> bytes:
    words = (len(body) + 4) // 4 if length is None else length
    return struct.pack("!BBH", 0x80 | (count & 0x1F), kind, words & 0xFFFF) + body


def rtcp_packets() -> st.SearchStrategy[bytes]:
    """Compound RTCP: SR, RR, SDES, BYE, RTPFB (NACK), PSFB (PLI, FIR, REMB), XR, others."""
    known = [AUDIO_SSRC, VIDEO_SSRC, FORWARDED_AUDIO_SSRC, FORWARDED_VIDEO_SSRC, 0, 0xFFFFFFFF]
    ssrc = st.sampled_from(known).map(lambda value: struct.pack("!I", value))
    nack = st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(
        lambda item: struct.pack("!HH", *item)
    )
    body = st.one_of(
        st.binary(max_size=64),
        st.tuples(ssrc, ssrc, st.lists(nack, max_size=4)).map(
            lambda parts: parts[0] + parts[1] + b"".join(parts[2])
        ),
        st.tuples(ssrc, st.binary(min_size=20, max_size=20), st.binary(max_size=48)).map(
            lambda parts: parts[0] + parts[1] + parts[2]
        ),
    )
    remb = st.builds(
        lambda count, ssrcs, exponent: _rtcp(
            206,
            15,
            None,
            struct.pack("!II4sB", 7, 0, b"REMB", count) + bytes([exponent, 0, 0]) + ssrcs,
        ),
        st.integers(0, 255),
        st.lists(ssrc, max_size=3).map(b"".join),
        st.integers(0, 255),
    )
    packet = st.builds(
        _rtcp,
        st.sampled_from([200, 201, 202, 203, 204, 205, 206, 207, 195, 0]),
        st.integers(0, 31),
        st.one_of(st.none(), st.integers(0, 0xFFFF)),
        body,
    )
    return st.lists(st.one_of(packet, remb), min_size=1, max_size=4).map(b"".join)


FROM_PUBLISHER_RTP, FROM_PUBLISHER_RTCP, FROM_SUBSCRIBER_RTCP = 0, 1, 2


def session(*packets: tuple[int, bytes]) -> bytes:
    """An input: packets in order, each from the publisher (RTP or RTCP) or the subscriber."""
    return joined([bytes([direction]) + packet for direction, packet in packets])


class _Session(Harness[bytes]):
    """Each input is a short media session on a fresh pipeline, so that a crash that needs
    state (a keyframe before a large packet, a cached packet before a NACK) replays alone."""

    async def run(self, data: bytes) -> None:
        pipeline = Pipeline()
        try:
            for element in frames(data):
                direction, packet = (element[0] % 3, element[1:]) if element else (0, b"")
                if direction == FROM_PUBLISHER_RTP:
                    pipeline.want_keyframe()
                    _checked("on_rtp", pipeline.publisher.on_rtp, packet)
                    for payloads in pipeline.captured:
                        decode_picture(payloads)
                else:
                    side = (
                        pipeline.publisher_side
                        if direction == FROM_PUBLISHER_RTCP
                        else pipeline.subscriber_side
                    )
                    try:
                        await side.dtls._handle_rtcp_data(packet)
                    except Exception as error:
                        raise CrashError(f"RTCP handling raised {error!r}") from error
        finally:
            pipeline.close()


def _checked(what: str, handle: Any, packet: bytes) -> None:
    try:
        handle(packet)
    except Exception as error:
        raise CrashError(f"{what} raised {error!r}") from error


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Keyframe(Harness[bytes]):
    """Input: the keyframe's RTP payloads in sequence (``harness.frames``)."""

    async def run(self, data: bytes) -> None:
        before = _peak_rss()
        try:
            decode_picture(frames(data) or [data])
        except Exception as error:
            raise CrashError(f"decode_picture raised {error!r}") from error
        grown = _peak_rss() - before
        if grown > MEMORY_LIMIT:
            raise CrashError(f"decoding one keyframe grew the process by {grown >> 20} MiB")


async def _session_harness() -> Harness[bytes]:
    return _Session()


async def _keyframe_harness() -> Harness[bytes]:
    return _Keyframe()


def _sessions(rtp_weight: int, rtcp_weight: int) -> Any:
    """Sessions of generated packets (mostly RTP, or mostly RTCP), and mutated seeds."""
    element = st.one_of(
        *[rtp_packets().map(lambda p: bytes([FROM_PUBLISHER_RTP]) + p)] * rtp_weight,
        *[
            st.tuples(
                st.sampled_from([FROM_PUBLISHER_RTCP, FROM_SUBSCRIBER_RTCP]), rtcp_packets()
            ).map(lambda item: bytes([item[0]]) + item[1])
        ]
        * rtcp_weight,
    )
    generated = st.lists(element, min_size=1, max_size=12).map(joined)

    def strategy(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
        return st.one_of(
            st.sampled_from(list(seeds)),
            mutated_bytes(seeds),
            st.tuples(st.sampled_from(list(seeds)), generated).map(lambda pair: pair[0] + pair[1]),
            generated,
            st.binary(max_size=200),
        )

    return strategy


def _vp8_dimensions(seed: bytes, width: int, height: int) -> bytes:
    """A captured keyframe whose VP8 header claims another size (RFC 6386 9.1)."""
    at = seed.find(b"\x9d\x01\x2a")
    if at < 0:
        return seed
    return seed[: at + 3] + struct.pack("<HH", width, height) + seed[at + 7 :]


def _keyframe_strategy(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    resized = st.builds(
        _vp8_dimensions,
        st.sampled_from(list(seeds)),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
    )
    return st.one_of(st.sampled_from(list(seeds)), mutated_bytes(seeds), resized)


RTP = Target("rtp", False, _session_harness, _sessions(rtp_weight=3, rtcp_weight=1))
RTCP = Target("rtcp", False, _session_harness, _sessions(rtp_weight=1, rtcp_weight=3))
VP8_KEYFRAME = Target("vp8_keyframe", False, _keyframe_harness, _keyframe_strategy)
