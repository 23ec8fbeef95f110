"""A participant's subscribing connection: the server offers, the client answers.

Each forwarded track gets a ``sendonly`` transceiver whose sender never encodes
(``aiortc_seam.idle_track``); the forwarder writes the rewritten packets on the
connection's transport and the sender keeps its SSRC, SDP and RTCP. The offer
always carries a data channel so that the connection exists (and connects)
before anyone publishes, and a later track is forwarded as soon as its
renegotiation completes.

Tracks that end are stopped at once (``PublishedTrack.end`` drops every
subscriber); the next offer marks their m-lines ``inactive``. m-lines are not
reused, so a long meeting's offers grow by one m-line per track ever forwarded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)

from .aiortc_seam import (
    ForwardedSender,
    RtpSink,
    idle_track,
    negotiated_payload_type,
    primary_transport,
)
from .connection_watch import ConnectionWatch
from .errors import MediaError
from .events import Source
from .forwarder import DownTrack, PublishedTrack
from .header_extensions import ABS_SEND_TIME, MID, OutgoingExtensions, extension_ids
from .nack_budget import NackBudget
from .nack_memory import MissingPackets
from .negotiation import check_answer
from .publisher import CODEC_OF_KIND
from .subscriber_bandwidth import SubscriberBandwidth

__all__ = ["SubscribedTrack", "SubscriberConnection", "SubscriberOffer"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubscribedTrack:
    """Which participant's which source an m-line of a subscriber offer carries."""

    mid: str
    participant_id: str
    source: Source
    kind: str


@dataclass(frozen=True, slots=True)
class SubscriberOffer:
    """An offer for a subscribing connection and the tracks its active m-lines carry."""

    sdp: str
    tracks: tuple[SubscribedTrack, ...]


class _Slot:
    __slots__ = ("down", "resend_missing", "track", "transceiver")

    def __init__(self, transceiver: RTCRtpTransceiver, track: PublishedTrack) -> None:
        self.transceiver = transceiver
        self.track = track
        self.down: DownTrack | None = None
        self.resend_missing: Callable[[], None] | None = None
        """Resends what the subscriber still misses of this stream (a resume)."""


class SubscriberConnection:
    """One participant's subscribing RTCPeerConnection and the tracks forwarded on it."""

    def __init__(
        self, participant_id: str, connect_timeout: float, bandwidth_control: bool = True
    ) -> None:
        """``bandwidth_control`` False never pauses a stream for this subscriber's link
        (the server before it did, for the benchmark's side-by-side runs)."""
        self.participant_id = participant_id
        # What this subscriber's link can take (its RTCP), and the video paused meanwhile.
        self.bandwidth = SubscriberBandwidth(bandwidth_control)
        self.bandwidth.on_resumed = self._resumed
        # Host candidates only: the server is the end with a known address, reached
        # directly or through the client's TURN relay (docs/operating.md, "TURN").
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.createDataChannel("meetwarden")
        self.watch = ConnectionWatch(self.pc, connect_timeout)
        self.connected = asyncio.Event()
        self.lock = asyncio.Lock()
        self.dirty = False
        self.closed = False
        self._slots: list[_Slot] = []
        self._sink: RtpSink | None = None
        self._connect_timeout = connect_timeout
        self._attach_tasks: set[asyncio.Task[None]] = set()
        self._extension_ids: dict[str, dict[str, int]] = {}  # by mid, from the answer
        self._remb: dict[tuple[int, ...], int] = {}  # the latest REMB, by the SSRCs it names
        self.remb_bitrate: int | None = None
        """What this subscriber's receivers last estimated they can take (REMB, bits
        per second), all its video streams together; None until its first REMB."""
        self.remb_at: float | None = None
        """When that REMB arrived (``time.monotonic``)."""

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            if self.pc.connectionState == "connected":
                self.connected.set()

    # ------------------------------------------------------------------ offers

    def forwarded_tracks(self) -> set[PublishedTrack]:
        return {slot.track for slot in self._slots if not slot.track.ended}

    async def make_offer(self, wanted: list[PublishedTrack]) -> SubscriberOffer:
        """Offer the ``wanted`` tracks: add m-lines for new ones, deactivate ended ones.

        Raises MediaError("closed") once ``stop_forwarding`` ran, checked after every
        await: a connection being released must not gather sockets of its own.
        """
        self._check_open()
        present = {slot.track for slot in self._slots}
        for slot in self._slots:
            if slot.track.ended and slot.transceiver.direction != "inactive":
                self._detach(slot)
                slot.transceiver.direction = "inactive"
                await slot.transceiver.sender.stop()
                self._check_open()
        for track in wanted:
            if track in present or track.ended:
                continue
            transceiver = self.pc.addTransceiver(idle_track(track.kind), direction="sendonly")
            mime = CODEC_OF_KIND[track.kind].lower()
            transceiver.setCodecPreferences(
                [
                    codec
                    for codec in RTCRtpSender.getCapabilities(track.kind).codecs
                    if codec.mimeType.lower() == mime
                ]
            )
            self._slots.append(_Slot(transceiver, track))
        offer = await self.pc.createOffer()
        self._check_open()
        await self.pc.setLocalDescription(offer)
        self._check_open()
        # The offer's sockets are open: the client answers and connects in time, or they close.
        self.watch.start_clock()
        tracks = tuple(
            SubscribedTrack(
                slot.transceiver.mid or "",
                slot.track.participant_id,
                slot.track.source,
                slot.track.kind,
            )
            for slot in self._slots
            if slot.transceiver.direction == "sendonly"
        )
        return SubscriberOffer(self.pc.localDescription.sdp, tracks)

    async def renegotiate(
        self, wanted: Callable[[], list[PublishedTrack]]
    ) -> SubscriberOffer | None:
        """A new offer of the ``wanted()`` tracks if they changed (``dirty``) and the
        connection is stable; None otherwise, or if it was stopped meanwhile."""
        async with self.lock:
            if not self.dirty or self.closed:
                return None
            if self.pc.signalingState != "stable":
                return None  # the answer to the outstanding offer triggers the next one
            self.dirty = False
            try:
                offer = await self.make_offer(wanted())
            except Exception:
                if not self.closed:  # stopped meanwhile: nothing to offer to
                    logger.exception("renegotiation of %s failed", self.participant_id)
                return None
        return None if self.closed else offer

    async def apply_answer(self, answer_sdp: str) -> None:
        """Take the client's answer; forwarding of new m-lines starts once connected."""
        if self.pc.signalingState != "have-local-offer":
            raise MediaError("unexpected_answer", "There is no offer waiting for an answer.")
        check_answer(answer_sdp)
        # RFC 8285 5: ids are the answer's; the forwarder writes them, never the publisher's.
        self._extension_ids = extension_ids(answer_sdp, sending=True)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
        except Exception as exc:  # V4: aiortc raises many types on a bad answer
            logger.info("answer of %s failed in aiortc: %r", self.participant_id, exc)
            raise MediaError("bad_answer", "The answer could not be negotiated.") from exc
        if self.closed:  # stopped during the await: nothing may be prepared or attached
            return
        if self._sink is None:
            dtls = primary_transport(self.pc)
            if dtls is None:  # pragma: no cover - the offer always has a data channel
                raise MediaError("bad_answer", "The answer has no transport.")
            self._sink = RtpSink(dtls)
        for slot in self._slots:
            if (
                slot.down is None
                and not slot.track.ended
                and slot.transceiver.direction == "sendonly"
            ):
                self._prepare(slot)
        task = asyncio.create_task(self._attach_when_connected())
        self._attach_tasks.add(task)
        task.add_done_callback(self._attach_tasks.discard)

    def _prepare(self, slot: _Slot) -> None:
        payload_type = negotiated_payload_type(slot.transceiver)
        if payload_type is None or self._sink is None:
            return
        sender = ForwardedSender(slot.transceiver.sender)
        mid = slot.transceiver.mid
        ids = self._extension_ids.get(mid or "", {})
        extensions = OutgoingExtensions(mid, ids.get(MID), ids.get(ABS_SEND_TIME))
        down = DownTrack(
            self.participant_id,
            self._sink,
            sender,
            payload_type,
            slot.track.kind == "video",
            extensions,
        )
        track = slot.track
        bandwidth = self.bandwidth
        budget = NackBudget()  # one NACK may name thousands of packets (nack_budget)
        missing = MissingPackets()  # what the NACKs named and was not seen to arrive

        def resend(lost: list[int]) -> None:
            allowed = budget.allow(lost, time.monotonic())
            if allowed:
                track.on_nack(down, allowed)

        def on_nack(lost: list[int]) -> None:
            missing.named(lost, down.newest_sequence_number)
            resend(lost)

        def resend_missing() -> None:
            holes = missing.still_missing(down.newest_sequence_number)
            if holes:
                resend(holes)

        slot.resend_missing = resend_missing

        sender.intercept_feedback(
            on_nack,
            track.keyframes.request,
            lambda highest, lost: bandwidth.on_report(
                down, highest, lost, time.monotonic(), self.forwarded()
            ),
            self._on_remb,
        )
        slot.down = down

    def _resumed(self, down: DownTrack) -> None:
        """A stream paused for this subscriber's link goes on: first the packets it still
        misses (``nack_memory.py``), again. A pause follows loss, and the retransmissions
        of its last moments may have been lost too; an aiortc receiver names what it
        misses only when a new gap appears (rtcrtpreceiver.py ``NackGenerator``), and the
        resumed numbering has none, so it would wait for 512 more packets (jitterbuffer.py)
        before it decoded again. Duplicates of what did arrive are dropped by any
        receiver."""
        for slot in self._slots:
            if slot.down is down and slot.resend_missing is not None:
                slot.resend_missing()

    def _on_remb(self, bitrate: int, ssrcs: tuple[int, ...]) -> None:
        """A REMB from this subscriber: aiortc sends one per video receiver, naming its
        SSRC; a browser one for all of them. A newer one replaces those it overlaps."""
        named = set(ssrcs)
        self._remb = {key: rate for key, rate in self._remb.items() if named.isdisjoint(key)}
        self._remb[ssrcs] = bitrate
        self.remb_bitrate = sum(self._remb.values())
        self.remb_at = time.monotonic()
        self.bandwidth.on_remb(self.remb_bitrate, self.remb_at)

    def _forget_remb(self, ssrc: int) -> None:
        """A stream no longer sent: its own estimate no longer counts (a browser's,
        naming other streams too, stands until its next REMB)."""
        self._remb = {key: rate for key, rate in self._remb.items() if key != (ssrc,)}
        if self.remb_bitrate is not None:
            self.remb_bitrate = sum(self._remb.values()) if self._remb else None

    async def _attach_when_connected(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), self._connect_timeout)
        except TimeoutError:
            logger.info("subscriber %s did not connect in time", self.participant_id)
            return
        if self.closed:
            return
        for slot in self._slots:
            down = slot.down
            if (
                down is not None
                and not slot.track.ended
                and down not in slot.track.downs
                and not self.bandwidth.is_paused(down)
            ):
                slot.track.add_down(down)

    # ------------------------------------------------------------------ teardown

    def _check_open(self) -> None:
        if self.closed:
            raise MediaError("closed", "This subscribing connection was closed.")

    def _detach(self, slot: _Slot) -> None:
        if slot.down is not None:
            slot.track.remove_down(slot.down)
            self._forget_remb(slot.down.ssrc)
            self.bandwidth.forget(slot.down)

    def stop_forwarding(self) -> None:
        """Stop every stream to this subscriber at once (no await between them)."""
        self.closed = True
        self.watch.stop()
        for slot in self._slots:
            self._detach(slot)
        for task in self._attach_tasks:
            task.cancel()

    def forwarded(self) -> list[tuple[PublishedTrack, DownTrack]]:
        """Every stream this subscriber is sent now, paused ones included."""
        return [
            (slot.track, slot.down)
            for slot in self._slots
            if slot.down is not None
            and not slot.track.ended
            and slot.transceiver.direction == "sendonly"
        ]

    def downs(self) -> list[tuple[PublishedTrack, DownTrack]]:
        return [(slot.track, slot.down) for slot in self._slots if slot.down is not None]

    def describe(self) -> str:
        """One line for an operator: the connection's states and each stream's count of
        packets sent (``MediaPlane.describe``)."""
        pc = self.pc
        sending = "no answer yet" if self._sink is None else f"dtls {self._sink.state}"
        streams = ", ".join(
            f"{track.source} of {track.participant_id}: {down.packets} sent"
            + (" (ended)" if track.ended else "")
            + (" (paused)" if self.bandwidth.is_paused(down) else "")
            + ("" if track.ended or down in track.downs else " (detached)")
            for track, down in self.downs()
        )
        return (
            f"subscriber {self.participant_id}: {pc.connectionState}, ice "
            f"{pc.iceConnectionState}, {sending}; {streams or 'no streams'}"
        )
