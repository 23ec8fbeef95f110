"""A participant's publishing connection: the client offers, the server answers and forwards.

Decrypted RTP from this connection never reaches aiortc's receivers: it is read
by ``on_rtp`` (raw header fields, no parsing objects), looked up by SSRC and
handed to the ``PublishedTrack`` of that m-line. The SSRC -> track table comes
from the offer's ``a=ssrc`` lines, so a packet on an SSRC the client did not
declare for a mid is dropped, and a packet whose payload type is not the
negotiated codec's is dropped by the track.

The server is each publisher's receiver, so it gives the feedback a receiver
gives: every second an RTCP receiver report (loss, jitter, round trip; see
``receive_stats``) and a REMB with the most the publisher should send: what its
viewers can take, at most ``MAX_BITRATE`` per source (``publisher_remb``).
Browsers set their send rate from these. And it asks for what it lost
(``loss_repair``): a NACK for a video track whose answer negotiated ``nack``,
answered on the retransmission stream the offer paired with the track
(``a=ssrc-group:FID``), whose packets are unwrapped here and handed to the
track as retransmissions, never counted as the track's own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from .aiortc_seam import (
    RtpSink,
    intercept_publisher_media,
    keep_codec,
    primary_transport,
    retransmission_of,
    rtcp_ssrc,
)
from .connection_watch import ConnectionWatch
from .errors import MediaError
from .events import Source
from .forwarder import Gate, KeyframeRequester, PublishedTrack
from .header_extensions import AUDIO_LEVEL, extension_ids
from .negotiation import PublisherOffer, read_offer
from .publisher_layers import PublisherLayers, TileLookup
from .publisher_remb import RembTrack, ViewerRemb
from .receive_stats import ReceiveStats
from .rtp_packets import (
    RtpFields,
    build_nack,
    build_pli,
    build_receiver_report,
    build_remb,
    parse_rtp,
    unwrap_rtx,
)
from .simulcast import Bandwidth
from .speaking import LevelMeter

__all__ = ["CODEC_OF_KIND", "FEEDBACK_SECONDS", "MAX_BITRATE", "PublisherConnection"]

logger = logging.getLogger(__name__)

# The codecs meetwarden forwards; every subscriber can decode them (aiortc has both).
CODEC_OF_KIND = {"audio": "audio/opus", "video": "video/VP8"}
CLOCK_RATE = {"audio": 48_000, "video": 90_000}
# The most a publisher is asked to send per source (REMB), in bits per second: VGA to
# 720p camera video, a screen's sharp text, Opus speech.
MAX_BITRATE = {
    "camera": 1_500_000,
    "screen": 2_500_000,
    "microphone": 64_000,
    "screen_audio": 64_000,
}
FEEDBACK_SECONDS = 1.0
"""How often each publisher gets a receiver report and a REMB (RFC 3550's usual interval)."""


class PublisherConnection(PublisherLayers):
    """One participant's publishing RTCPeerConnection and the tracks it carries."""

    def __init__(
        self,
        participant_id: str,
        *,
        gate_of: Callable[[Source], Gate],
        on_first_packet: Callable[[PublishedTrack], None],
        keyframe_interval: float,
        replay_limit: int,
        connect_timeout: float,
        loss_repair: bool = True,
        viewer_bitrate: Callable[[RembTrack], int | None] | None = None,
        bandwidth: Bandwidth | None = None,
        tiles: TileLookup | None = None,
    ) -> None:
        """``loss_repair`` False: no NACKs to the publisher, retransmissions dropped (the
        server before loss repair, for the benchmark's side-by-side runs).
        ``viewer_bitrate`` (see ``publisher_remb``) sets the REMB from what the viewers
        can take; None sends the fixed ceiling. ``bandwidth``: each subscriber's available
        bits per second, and ``tiles`` the size each shows a source at, for choosing
        simulcast layers."""
        super().__init__(bandwidth, tiles)
        self.participant_id = participant_id
        # Host candidates only: the server is the end with a known address, reached
        # directly or through the client's TURN relay (docs/operating.md, "TURN").
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.watch = ConnectionWatch(self.pc, connect_timeout)
        self.offer: PublisherOffer | None = None
        self.tracks: dict[str, PublishedTrack] = {}  # by mid
        self._by_ssrc: dict[int, PublishedTrack] = {}
        self._by_rtx_ssrc: dict[int, tuple[PublishedTrack, int]] = {}  # (track, RTX type)
        self._retransmission: dict[str, tuple[int | None, bool]] = {}  # by mid
        self._loss_repair = loss_repair
        self._remb = ViewerRemb(MAX_BITRATE, viewer_bitrate)
        self._stats: dict[int, ReceiveStats] = {}
        self._feedback: asyncio.Task[None] | None = None
        self._sink: RtpSink | None = None
        self._rtcp_ssrc: dict[str, int] = {}
        self._gate_of = gate_of
        self._on_first_packet = on_first_packet
        self._keyframe_interval = keyframe_interval
        self._replay_limit = replay_limit
        self.unknown_packets = 0
        self.ended = False  # end_all ran: the connection is being released

    # ------------------------------------------------------------------ negotiation

    async def negotiate(
        self, offer_sdp: str, sources: Mapping[str, Source]
    ) -> tuple[str, list[PublishedTrack], list[PublishedTrack]]:
        """Answer an offer; returns (answer SDP, tracks added, tracks ended).

        Refusals (``read_offer``) leave the connection as it was. A failure inside
        aiortc raises MediaError("bad_offer") and leaves the connection unusable:
        the caller releases it. Once ``end_all`` ran, MediaError("closed"), checked
        after every await: a connection being released must not gather sockets.
        """
        self._check_open()
        offer = read_offer(offer_sdp, sources, self.offer)
        for track in offer.tracks:
            if track.ssrc is None and not track.rids:
                raise MediaError("bad_offer", f"m-line {track.mid!r} must declare its a=ssrc.")
        self._check_extension_ids(offer)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            self._check_open()
            payload_types = self._keep_codecs(offer)
            answer = await self.pc.createAnswer()
            self._check_open()
            await self.pc.setLocalDescription(answer)
            self._check_open()
        except MediaError:
            raise
        except Exception as exc:  # V4: aiortc raises a zoo of types on a bad offer
            logger.info("offer of %s failed in aiortc: %r", self.participant_id, exc)
            raise MediaError("bad_offer", "The offer could not be negotiated.") from exc
        if self._sink is None:
            dtls = primary_transport(self.pc)
            if dtls is None:  # pragma: no cover - an accepted offer has an m-line
                raise MediaError("bad_offer", "The offer has no transport.")
            intercept_publisher_media(dtls, self.on_rtp, self._on_sender_report)
            self._sink = RtpSink(dtls)
            self._feedback = asyncio.create_task(self._give_feedback())
            self.watch.start_clock()  # the client has the answer: it connects, or times out
        added, ended = self._apply(offer, payload_types)
        self._meter_levels(self.pc.localDescription.sdp)
        self.offer = offer
        return self._accept_layers(self.pc.localDescription.sdp, offer), added, ended

    def _keep_codecs(self, offer: PublisherOffer) -> dict[str, int]:
        wanted = offer.by_mid()
        payload_types: dict[str, int] = {}
        for transceiver in self.pc.getTransceivers():
            track = wanted.get(transceiver.mid or "")
            if track is None:
                continue
            payload_type = keep_codec(transceiver, CODEC_OF_KIND[track.kind])
            if payload_type is None:
                raise MediaError(
                    "codec_unsupported",
                    f"m-line {track.mid!r} must offer {CODEC_OF_KIND[track.kind]}.",
                )
            payload_types[track.mid] = payload_type
            self._rtcp_ssrc[track.mid] = rtcp_ssrc(transceiver)
            self._retransmission[track.mid] = retransmission_of(transceiver, payload_type)
        return payload_types

    def _apply(
        self, offer: PublisherOffer, payload_types: dict[str, int]
    ) -> tuple[list[PublishedTrack], list[PublishedTrack]]:
        offered = offer.by_mid()
        ended = [track for mid, track in self.tracks.items() if mid not in offered]
        for track in ended:
            self._end(track)
        added: list[PublishedTrack] = []
        self._declare_layers(offer)
        for mid, wanted in offered.items():
            existing = self.tracks.get(mid)
            if existing is None:
                track = self._new_source(wanted, payload_types[mid])
                self.tracks[mid] = track
                added.append(track)
            else:
                track = existing
                self._set_payload_type(track, payload_types[mid])
            if wanted.rids:
                continue  # its layers' SSRCs are bound from their packets (publisher_layers)
            self._forget(track)
            assert wanted.ssrc is not None
            self._by_ssrc[wanted.ssrc] = track
            rtx_payload_type, _ = self._retransmission.get(mid, (None, False))
            if track.repair is not None and wanted.rtx_ssrc and rtx_payload_type is not None:
                self._by_rtx_ssrc[wanted.rtx_ssrc] = (track, rtx_payload_type)
        self._stats = {
            ssrc: self._stats.get(ssrc) or ReceiveStats(CLOCK_RATE[track.kind])
            for ssrc, track in self._by_ssrc.items()
        }
        return added, ended

    def _meter_levels(self, answer_sdp: str) -> None:
        """Microphones whose answer kept ``ssrc-audio-level`` (aiortc keeps the extensions
        it knows, rtcpeerconnection.py ``find_common_header_extensions``) get a meter,
        under the id of the publisher's offer (RFC 8285 5); a meter is kept across a
        re-offer that keeps the id."""
        ids = extension_ids(answer_sdp, sending=False)
        for mid, track in self.tracks.items():
            ext_id = ids.get(mid, {}).get(AUDIO_LEVEL) if track.source == "microphone" else None
            if ext_id is None:
                track.level = None
            elif track.level is None or track.level.ext_id != ext_id:
                track.level = LevelMeter(ext_id)

    def _new_track(
        self,
        mid: str,
        source: Source,
        kind: str,
        media_ssrc: int,
        payload_type: int,
        on_first_packet: Callable[[PublishedTrack], None],
    ) -> PublishedTrack:
        sender_ssrc = self._rtcp_ssrc[mid]

        def send_pli() -> bool:
            sink = self._sink
            return sink is not None and sink.send_rtcp(build_pli(sender_ssrc, media_ssrc))

        def send_nack(lost: list[int]) -> bool:
            sink = self._sink
            return sink is not None and sink.send_rtcp(build_nack(sender_ssrc, media_ssrc, lost))

        _, nack = self._retransmission.get(mid, (None, False))
        return PublishedTrack(
            self.participant_id,
            source,
            kind,
            self._gate_of(source),
            payload_type,
            KeyframeRequester(send_pli, self._keyframe_interval),
            self._replay_limit,
            on_first_packet,
            send_nack=send_nack if self._loss_repair and nack else None,
        )

    def _forget(self, track: PublishedTrack) -> None:
        """Route none of the track's SSRCs (before new ones are routed, or at its end)."""
        self._by_ssrc = {ssrc: t for ssrc, t in self._by_ssrc.items() if t is not track}
        self._by_rtx_ssrc = {
            ssrc: route for ssrc, route in self._by_rtx_ssrc.items() if route[0] is not track
        }

    def _end(self, track: PublishedTrack) -> None:
        track.end()
        for mid in [mid for mid, t in self.tracks.items() if t is track]:
            self._forget_layers(mid)
        self.tracks = {mid: t for mid, t in self.tracks.items() if t is not track}
        self._forget(track)

    def _check_open(self) -> None:
        if self.ended:
            raise MediaError("closed", "This publishing connection was closed.")

    def end_all(self) -> list[PublishedTrack]:
        """Stop forwarding every track of this connection at once; returns them."""
        self.ended = True
        self.watch.stop()
        ended = list(self.tracks.values())
        self._by_ssrc = {}
        self._by_rtx_ssrc = {}
        self._stats = {}
        if self._feedback is not None:
            self._feedback.cancel()
            self._feedback = None
        for track in ended:
            track.end()
        self.tracks = {}
        return ended

    # ------------------------------------------------------------------ media

    def on_rtp(self, data: bytes) -> None:
        fields = parse_rtp(data)
        if fields is None:
            return
        track = self._by_ssrc.get(fields.ssrc)
        if track is None:
            self._on_other(fields, data)
            return
        self._stats[fields.ssrc].on_packet(
            fields.sequence_number, fields.timestamp, time.monotonic()
        )
        level = track.level
        if level is not None and track.gate.open:
            level.observe(data)  # what a closed gate stops is never even read
        track.on_rtp(fields)

    def _on_other(self, fields: RtpFields, data: bytes) -> None:
        """A packet on an SSRC that is no track's own: a retransmission, a simulcast layer's
        first (``publisher_layers``), or dropped."""
        route = self._by_rtx_ssrc.get(fields.ssrc)
        if route is None and self._binding is not None and self._bind(fields, data):
            return
        if route is None or fields.payload_type != route[1]:
            self.unknown_packets += 1  # probes, RTX nobody asked for, an SSRC never declared
            return
        original = unwrap_rtx(fields, route[0].payload_type)
        if original is not None:
            route[0].on_retransmission(original)

    def _on_sender_report(self, ssrc: int, ntp_timestamp: int, rtp_timestamp: int) -> None:
        track = self._by_ssrc.get(ssrc)
        if track is not None:
            self._stats[ssrc].on_sender_report(ntp_timestamp, time.monotonic())
            track.on_sender_report(ntp_timestamp, rtp_timestamp)

    # ------------------------------------------------------------------ feedback

    def feedback(self, now: float | None = None) -> bytes | None:
        """This connection's receiver report and REMB, as one compound RTCP packet."""
        now = time.monotonic() if now is None else now
        blocks = [
            stats.report_block(ssrc, now) for ssrc, stats in self._stats.items() if stats.received
        ]
        if not blocks or not self._rtcp_ssrc:
            return None
        sender = next(iter(self._rtcp_ssrc.values()))
        packet = build_receiver_report(sender, blocks)
        video = [ssrc for ssrc, track in self._by_ssrc.items() if track.video]
        if video:
            bitrate = self._remb.bitrate(self._by_ssrc.values(), now)
            packet += build_remb(sender, bitrate, video)
        return packet

    async def _give_feedback(self) -> None:
        while True:
            await asyncio.sleep(FEEDBACK_SECONDS)  # the report interval, not a wait on an event
            packet = self.feedback()
            self._reselect_layers()  # bandwidths and layers change: choose again
            sink = self._sink
            if packet is None or sink is None:
                continue
            try:
                sink.send_rtcp(packet)
            except Exception:  # a transport going away; the next report tries again
                logger.debug("feedback to %s not sent", self.participant_id, exc_info=True)

    def track_of(self, source: Source) -> PublishedTrack | None:
        for track in self.tracks.values():
            if track.source == source:
                return track
        return None
