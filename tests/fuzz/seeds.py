"""The seed corpus: real inputs of every target, written by ``bench/fuzz.py --write-seeds``.

Seeds are what a real client sends (aiortc's offers and answers, a browser's
offer, packets aiortc's encoders produce, a frame of every client message
type), the example policies, and the inputs of the issues and probes behind
the guards (the 1,501-byte datagram, V2's malformed STUN, duplicate keys). They
are written once and committed; writing them again replaces only ``seed-*``
files, never a ``crash-*`` file.
"""

from __future__ import annotations

import fractions
import os
import re
import struct

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media import MediaPlane

from .harness import CORPUS, joined
from .packets import FROM_PUBLISHER_RTCP, FROM_PUBLISHER_RTP, FROM_SUBSCRIBER_RTCP, session
from .participant_socket import client_message_seeds
from .policy import policy_seeds
from .transport import LOCAL_PASSWORD, LOCAL_UFRAG, stun_message
from .wiring import (
    AUDIO_LEVEL_ID,
    AUDIO_PT,
    AUDIO_SSRC,
    FORWARDED_AUDIO_SSRC,
    FORWARDED_VIDEO_SSRC,
    VIDEO_PT,
    VIDEO_SSRC,
)

__all__ = ["write_seeds"]

BROWSER_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0",
        "a=ice-ufrag:Bv2j",
        "a=ice-pwd:1mDEgZcWH8bOFI6ZeTHUzBce",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["4F"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendonly",
        "a=msid:stream mic",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:1001 cname:browser",
        "a=ssrc:1001 msid:stream mic",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:Bv2j",
        "a=ice-pwd:1mDEgZcWH8bOFI6ZeTHUzBce",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["4F"] * 32),
        "a=setup:actpass",
        "a=mid:1",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "a=sendonly",
        "a=msid:stream cam",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 goog-remb",
        "a=rtcp-fb:96 ccm fir",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:98 VP9/90000",
        "a=fmtp:98 profile-id=0",
        "a=rtpmap:99 rtx/90000",
        "a=fmtp:99 apt=98",
        "a=ssrc-group:FID 2001 2002",
        "a=ssrc:2001 cname:browser",
        "a=ssrc:2002 cname:browser",
        "",
    ]
)


def _write(target: str, name: str, data: bytes | str) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    (folder / f"seed-{name}").write_bytes(raw)


async def _offer(*tracks: str, data_channel: bool = False) -> str:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for kind in tracks:
        track = SyntheticAudioTrack() if kind == "audio" else SyntheticVideoTrack(160, 120)
        client.addTransceiver(track, direction="sendonly")
    if data_channel:
        client.createDataChannel("chat")
    await client.setLocalDescription(await client.createOffer())
    offer = client.localDescription.sdp
    await client.close()
    return offer


def _bundle_only(offer: str) -> str:
    """Firefox's way: later bundled m-lines on port 0 with a=bundle-only (RFC 8843 6)."""
    sections = offer.split("\r\nm=")
    for i in range(2, len(sections)):
        head, _, rest = sections[i].partition("\r\n")
        head = re.sub(r"^(\w+) \d+ ", r"\1 0 ", head)
        sections[i] = head + "\r\na=bundle-only\r\n" + rest
    return "\r\nm=".join(sections)


async def _signalling_seeds() -> None:
    audio_video = await _offer("audio", "video")
    _write("sdp_offer", "aiortc-audio-video", audio_video)
    _write("sdp_offer", "aiortc-camera", await _offer("video"))
    _write(
        "sdp_offer",
        "aiortc-data-channel-and-media",
        await _offer("audio", "video", data_channel=True),
    )
    _write("sdp_offer", "bundle-only", _bundle_only(audio_video))
    _write("sdp_offer", "browser", BROWSER_OFFER)
    plane = MediaPlane()
    room = plane.room("seeds", on_observation=lambda observation: None)
    for participant in ("alice", "bob"):
        room.admit(participant)
    alice = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    bob = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for name, sources in (
            ("bob", None),
            ("bob-with-tracks", {"0": "microphone", "1": "camera"}),
        ):
            if sources is not None:
                await room.publish("alice", audio_video, sources)
            offer = await room.subscribe("bob")
            await bob.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await bob.setLocalDescription(await bob.createAnswer())
            _write("subscriber_answer", f"aiortc-{name}", bob.localDescription.sdp)
            await bob.close()
            bob = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    finally:
        await alice.close()
        await bob.close()
        await room.close()
        await plane.close()


def _stun_seeds() -> None:
    tid = b"T" * 12
    user = (0x0006, f"{LOCAL_UFRAG}:peer".encode())
    key = LOCAL_PASSWORD.encode()
    priority = (0x0024, struct.pack("!I", 1853824767))
    _write("stun", "bare-binding-request", stun_message(0x0001, tid, [], fingerprint=False))
    _write(
        "stun",
        "authenticated-check",
        stun_message(
            0x0001, tid, [user, priority, (0x802A, os.urandom(8)), (0x0025, b"")], key=key
        ),
    )
    _write(
        "stun",
        "authenticated-check-controlled",
        stun_message(0x0001, tid, [user, priority, (0x8029, bytes(8))], key=key),
    )
    _write(
        "stun",
        "v2-priority-length-0",
        stun_message(0x0001, tid, [(0x0024, b"")], fingerprint=False),
    )
    _write("stun", "wrong-credentials", stun_message(0x0001, tid, [user], key=b"not the password"))
    xor = (0x0020, struct.pack("!BBH", 0, 1, 1234) + os.urandom(4))
    _write("stun", "binding-success", stun_message(0x0101, tid, [xor], key=key))
    _write("stun", "error-response", stun_message(0x0111, tid, [(0x0009, b"\x00\x00\x04\x01Bad")]))
    _write("stun", "indication", stun_message(0x0011, tid, []))
    _write("stun", "allocate-request", stun_message(0x0003, tid, [(0x0019, b"\x11\x00\x00\x00")]))
    _write("stun", "rtp-not-stun", b"\x80\x60" + bytes(30))


def _rtp(
    marker: bool, pt: int, seq: int, ssrc: int, payload: bytes, extension: bool = False
) -> bytes:
    first = 0x90 if extension else 0x80
    head = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, seq * 3000, ssrc)
    if extension:  # RFC 8285 one-byte header: the mid (id 4) "1"
        head += struct.pack("!HH", 0xBEDE, 1) + b"\x40\x31\x00\x00"
    return head + payload


def _vp8_payloads(width: int, height: int, keyframe: bool) -> list[bytes]:
    encoder = Vp8Encoder()
    frames = []
    for index in range(2):
        y = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
        frame = av.VideoFrame.from_ndarray(np.dstack([y, y // 2, 255 - y]), format="rgb24")
        frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90_000)
        frames.append(encoder.encode(frame, force_keyframe=index == 0)[0])
    return frames[0] if keyframe else frames[1]


def _opus_payload() -> bytes:
    frame = av.AudioFrame.from_ndarray(
        np.zeros((1, 1920), dtype=np.int16), format="s16", layout="stereo"
    )
    frame.sample_rate, frame.pts = 48_000, 0
    frame.time_base = fractions.Fraction(1, 48_000)
    return OpusEncoder().encode(frame)[0][0]


def _rtcp_seeds() -> dict[str, bytes]:
    def header(count: int, kind: int, body: bytes) -> bytes:
        return struct.pack("!BBH", 0x80 | count, kind, len(body) // 4) + body

    sender_info = struct.pack("!IIIII", 0xE1234567, 0x89ABCDEF, 90_000, 100, 120_000)
    block = struct.pack("!IIIIII", VIDEO_SSRC, 0x01000002, 1000, 0, 0, 0)
    sdes = header(1, 202, struct.pack("!I", AUDIO_SSRC) + b"\x01\x05alice\x00\x00")
    return {
        "sender-report": header(0, 200, struct.pack("!I", VIDEO_SSRC) + sender_info) + sdes,
        "receiver-report": header(1, 201, struct.pack("!I", 7) + block),
        "nack": header(1, 205, struct.pack("!IIHH", 7, FORWARDED_VIDEO_SSRC, 5, 0xFFFF)),
        "pli": header(1, 206, struct.pack("!II", 7, FORWARDED_VIDEO_SSRC)),
        "fir": header(4, 206, struct.pack("!IIIBBH", 7, 0, FORWARDED_VIDEO_SSRC, 1, 0, 0)),
        "remb": header(
            15, 206, struct.pack("!II4sBBHI", 7, 0, b"REMB", 1, 0x0F, 0xFFFF, FORWARDED_AUDIO_SSRC)
        ),
        "bye": header(1, 203, struct.pack("!I", AUDIO_SSRC)),
        "extended-report": header(
            0, 207, struct.pack("!I", 7) + struct.pack("!BBH", 4, 0, 2) + bytes(8)
        ),
    }


def _audio_level_seeds(opus: bytes) -> dict[str, bytes]:
    """Microphone packets with audio levels (RFC 6464) in both RFC 8285 forms, and cut."""
    head = struct.pack("!BBHII", 0x90, AUDIO_PT, 7, 21_000, AUDIO_SSRC)
    one_byte = struct.pack("!HH", 0xBEDE, 1) + bytes([0x40, 0x31, AUDIO_LEVEL_ID << 4, 0x8A])
    two_byte = struct.pack("!HH", 0x1000, 2) + bytes([0, AUDIO_LEVEL_ID, 1, 0x8A, 4, 1, 0x31, 0])
    return {
        "opus-audio-level": head + one_byte + opus,
        "opus-audio-level-two-byte": head + two_byte + opus,
        "opus-audio-level-past-the-packet": head + struct.pack("!HH", 0xBEDE, 0x40) + b"\x20",
    }


def _media_seeds() -> None:
    keyframe = _vp8_payloads(64, 48, keyframe=True)
    delta = _vp8_payloads(64, 48, keyframe=False)
    opus = _opus_payload()
    rtp = {
        "vp8-keyframe": _rtp(len(keyframe) == 1, VIDEO_PT, 1, VIDEO_SSRC, keyframe[0]),
        "vp8-delta": _rtp(True, VIDEO_PT, 2, VIDEO_SSRC, delta[-1]),
        "opus": _rtp(True, AUDIO_PT, 3, AUDIO_SSRC, opus, extension=True),
        "csrc-and-padding": struct.pack("!BBHII", 0xA2, AUDIO_PT, 4, 0, AUDIO_SSRC)
        + bytes(8)
        + opus
        + b"\x00\x00\x03",
        "padding-only": struct.pack("!BBHII", 0xA0, VIDEO_PT, 5, 0, VIDEO_SSRC)
        + b"\x00\x00\x00\x04",
        "full-size": _rtp(False, VIDEO_PT, 6, VIDEO_SSRC, b"\x00" + bytes(1187)),  # 1,200 bytes
        **_audio_level_seeds(opus),
    }
    start = (FROM_PUBLISHER_RTP, rtp["vp8-keyframe"])
    for name, packet in rtp.items():
        _write("rtp", name, session(start, (FROM_PUBLISHER_RTP, packet)))
    rtcp = _rtcp_seeds()
    for name, packet in rtcp.items():
        _write("rtcp", f"from-publisher-{name}", session(start, (FROM_PUBLISHER_RTCP, packet)))
        _write("rtcp", f"from-subscriber-{name}", session(start, (FROM_SUBSCRIBER_RTCP, packet)))
    _write("vp8_keyframe", "gradient-64x48", joined(keyframe))
    publisher, subscriber, protected = 0, 1, 2
    too_long = b"\x80" + bytes(1500)  # issue 12: 0x80 then zeros, 1,501 bytes
    datagrams = {
        "issue-12-1501-bytes": [(publisher, too_long), (subscriber, too_long)],
        "empty": [(publisher, b""), (subscriber, b"")],
        "dtls-application-data": [(publisher, b"\x17\xfe\xfd" + bytes(11) + b"\x00\x04abcd")],
        "srtp-media": [
            (publisher | protected, rtp["vp8-keyframe"]),
            (publisher | protected, rtp["opus"]),
            (publisher | protected, rtcp["sender-report"]),
        ],
        "srtcp-feedback": [
            (publisher | protected, rtp["vp8-keyframe"]),
            (subscriber | protected, rtcp["nack"]),
            (subscriber | protected, rtcp["pli"]),
            (subscriber | protected, rtcp["receiver-report"]),
        ],
    }
    for name, sent in datagrams.items():
        _write("datagram", name, joined([bytes([flags]) + payload for flags, payload in sent]))


def _json_seeds() -> None:
    for name, data in policy_seeds().items():
        _write("policy", name, data)
    for name, data in client_message_seeds().items():
        _write("client_message", name, data)


async def write_seeds() -> None:
    await _signalling_seeds()
    _stun_seeds()
    _media_seeds()
    _json_seeds()
