"""Connected server-side transports without a network, for the packet fuzz targets.

A ``Side`` is an ``RTCDtlsTransport`` in the state a finished handshake leaves
it (connected, SRTP keys set up, guarded as the plane guards it) over a fake
ICE transport that hands it queued datagrams and swallows what it sends. A
``Pipeline`` is the forwarding path of one publisher (camera and microphone
tracks, gates open) to one subscriber, built from the server's own classes:
``PublisherConnection.on_rtp`` -> ``PublishedTrack`` -> ``DownTrack`` ->
``RtpSink`` (real SRTP protect) and, back, the subscriber's RTCP feedback
through ``ForwardedSender.intercept_feedback``.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pylibsrtp
from aiortc import RTCCertificate, RTCRtpSender
from aiortc.rtcdtlstransport import SRTP_PROFILES, RTCDtlsTransport, State
from OpenSSL import SSL

from meetwarden.server.media.aiortc_seam import (
    ForwardedSender,
    RtpSink,
    install_transport_guards,
    intercept_publisher_media,
)
from meetwarden.server.media.aiortc_seam.guards import _guarded_setup_srtp
from meetwarden.server.media.forwarder import DownTrack, Gate, KeyframeRequester, PublishedTrack
from meetwarden.server.media.publisher import PublisherConnection
from meetwarden.server.media.receive_stats import ReceiveStats
from meetwarden.server.media.speaking import LevelMeter

__all__ = [
    "AUDIO_LEVEL_ID",
    "AUDIO_PT",
    "AUDIO_SSRC",
    "FORWARDED_AUDIO_SSRC",
    "FORWARDED_VIDEO_SSRC",
    "VIDEO_PT",
    "VIDEO_SSRC",
    "FakeIce",
    "Pipeline",
    "Side",
]

AUDIO_SSRC, AUDIO_PT = 0x11111111, 111
AUDIO_LEVEL_ID = 2
"""The microphone's ``ssrc-audio-level`` id (aiortc's): its levels are read on the hot path."""
VIDEO_SSRC, VIDEO_PT = 0x22222222, 96
# The subscriber's senders, which its NACKs and PLIs name as their media source.
FORWARDED_AUDIO_SSRC, FORWARDED_VIDEO_SSRC = 0x33333333, 0x44444444
_PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
_CERTIFICATE: RTCCertificate | None = None


def _certificate() -> RTCCertificate:
    global _CERTIFICATE
    if _CERTIFICATE is None:
        _CERTIFICATE = RTCCertificate.generateCertificate()
    return _CERTIFICATE


class _Udp:
    def __init__(self) -> None:
        self.sent = 0

    def sendto(self, data: bytes, addr: Any = None) -> None:
        self.sent += 1

    def is_closing(self) -> bool:
        return False


class FakeIce:
    """What RTCDtlsTransport uses of an RTCIceTransport: a queue in, a sink out."""

    def __init__(self) -> None:
        self.incoming: list[bytes] = []
        self.udp = _Udp()
        pair = SimpleNamespace(
            protocol=SimpleNamespace(transport=self.udp), remote_addr=("127.0.0.1", 9)
        )
        self._connection = SimpleNamespace(_nominated={1: pair})
        self.state = "completed"
        self.role = "controlled"

    async def _recv(self) -> bytes:
        if not self.incoming:
            raise ConnectionError("nothing queued")
        return self.incoming.pop(0)

    async def _send(self, data: bytes) -> None:
        self.udp.sent += 1


def _session(key: bytes, inbound: bool) -> pylibsrtp.Session:
    kind = pylibsrtp.Policy.SSRC_ANY_INBOUND if inbound else pylibsrtp.Policy.SSRC_ANY_OUTBOUND
    policy = pylibsrtp.Policy(key=key, ssrc_type=kind, srtp_profile=_PROFILE)
    policy.allow_repeat_tx = True
    policy.window_size = 1024
    return pylibsrtp.Session(policy)


class Side:
    """A connected server-side DTLS transport, and the client's SRTP sender toward it."""

    def __init__(self) -> None:
        install_transport_guards()
        self.ice = FakeIce()
        dtls = RTCDtlsTransport(self.ice, [_certificate()])  # type: ignore[arg-type]
        context = _certificate()._create_ssl_context(srtp_profiles=SRTP_PROFILES)
        dtls._ssl = SSL.Connection(context)
        dtls._ssl.set_accept_state()
        dtls.encrypted = True
        dtls._RTCDtlsTransport__handshake_done = True  # type: ignore[attr-defined]
        client_key, server_key = os.urandom(30), os.urandom(30)
        dtls._rx_srtp = _session(client_key, inbound=True)
        dtls._tx_srtp = _session(server_key, inbound=False)
        dtls._setup_srtp = lambda: None  # type: ignore[method-assign]
        _guarded_setup_srtp(dtls)  # wraps the receive session as the guards do
        dtls._state = State.CONNECTED
        self.dtls = dtls
        self._client = _session(client_key, inbound=False)

    def protect(self, packet: bytes) -> bytes:
        """What the client would send for ``packet`` (itself, if SRTP refuses it)."""
        try:
            if len(packet) >= 2 and 192 <= packet[1] <= 208:
                return self._client.protect_rtcp(packet)
            return self._client.protect(packet)
        except (ValueError, pylibsrtp.Error):
            return packet

    def close(self) -> None:
        self.dtls._state = State.CLOSED


class Pipeline:
    """One publisher's camera and microphone forwarded to one subscriber (gates open)."""

    def __init__(self) -> None:
        self.publisher_side = Side()
        self.subscriber_side = Side()
        out = self.subscriber_side.dtls
        self.publisher = PublisherConnection(
            "alice",
            gate_of=lambda source: Gate(open=True),
            on_first_packet=lambda track: None,
            keyframe_interval=0.5,
            replay_limit=300,
            connect_timeout=15.0,
        )
        self.tracks: list[PublishedTrack] = []
        self.captured: list[list[bytes]] = []
        for ssrc, payload_type, kind, source, forwarded_ssrc in (
            (AUDIO_SSRC, AUDIO_PT, "audio", "microphone", FORWARDED_AUDIO_SSRC),
            (VIDEO_SSRC, VIDEO_PT, "video", "camera", FORWARDED_VIDEO_SSRC),
        ):
            track = PublishedTrack(
                "alice",
                source,  # type: ignore[arg-type]
                kind,
                Gate(open=True),
                payload_type,
                KeyframeRequester(lambda: True, 0.5),
                300,
                lambda track: None,
            )
            sender = RTCRtpSender(kind, out)
            sender._ssrc = forwarded_ssrc
            forwarded = ForwardedSender(sender)
            down = DownTrack("bob", RtpSink(out), forwarded, payload_type, kind == "video")
            forwarded.intercept_feedback(
                lambda lost, track=track, down=down: track.on_nack(down, lost),
                track.keyframes.request,
            )
            out._rtp_router.register_sender(sender, ssrc=sender._ssrc)
            track.add_down(down)
            track.on_keyframe_captured = self.captured.append
            if kind == "audio":
                track.level = LevelMeter(AUDIO_LEVEL_ID)
            self.publisher._by_ssrc[ssrc] = track
            self.publisher._stats[ssrc] = ReceiveStats(48_000 if kind == "audio" else 90_000)
            self.tracks.append(track)
        intercept_publisher_media(
            self.publisher_side.dtls, self.publisher.on_rtp, self.publisher._on_sender_report
        )

    def want_keyframe(self) -> None:
        """The camera check asks for the next keyframe (it captures its packets)."""
        self.tracks[1].capture_wanted = True
        self.captured.clear()

    def close(self) -> None:
        for track in self.tracks:
            track.end()
        self.publisher_side.close()
        self.subscriber_side.close()
