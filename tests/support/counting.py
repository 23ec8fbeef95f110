"""Counting what reaches a participant, at the wire.

``WireCounter`` hooks a receiving RTCPeerConnection's DTLS transport and counts
every decrypted RTP packet, before aiortc routes (or drops) it: by the
(publisher participant id, source) the server's offer named for the packet's
SSRC, and by SSRC where no offer named it. It also scans every payload for the
adversary's marker (``adversary.MARKER``): a packet the server should never
have taken is recognisable wherever it lands.

``HonestCounter`` is an SDK participant (``MeetingClient`` and its
``media.subscribe``) that keeps such a counter on its subscribing connection
and records every server message it reads (its JSON text, and the participant
ids and names in it), so a test can show that nothing of another meeting
reached it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from aiortc import RTCPeerConnection, sdp

from meetwarden import protocol as wire
from meetwarden.client_sdk import MeetingClient
from meetwarden.client_sdk.media import MediaSession

__all__ = [
    "MARKER",
    "SETTLE_SECONDS",
    "HonestCounter",
    "Key",
    "WireCounter",
    "settle",
    "until",
]

Key = tuple[str, str]
"""(publisher participant id, source); ("?", "ssrc:N") for an SSRC no offer named."""
MARKER = b"MEETWARDEN-ADVERSARY"
"""Every packet the adversary forges carries these bytes in its payload."""
SETTLE_SECONDS = 1.0
"""After an enforcement action, how long packets already in flight may still land."""


async def until(condition: Callable[[], bool], within: float = 20.0, what: str = "") -> None:
    """Waits until ``condition()`` holds; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or condition}")
        await asyncio.sleep(0.02)  # polling: aiortc's counters raise no events


async def settle() -> None:
    # Packets the server forwarded just before it closed a gate may still be in a
    # socket buffer or the receiver's event loop: they are not what is measured.
    await asyncio.sleep(SETTLE_SECONDS)


def _rtp_header(data: bytes) -> tuple[int, int, bytes] | None:
    """(SSRC, payload type, payload) of an RTP packet (RFC 3550 5.1), or None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    return int.from_bytes(data[8:12], "big"), data[1] & 0x7F, data[offset:]


class WireCounter:
    """Every RTP packet that reaches one participant's receiving connections."""

    def __init__(self) -> None:
        self.packets: Counter[Key] = Counter()
        self.marked = 0
        """Packets whose payload carries the adversary's marker."""
        self.offered: list[list[tuple[str, str, str]]] = []
        """Each offer's tracks: (mid, participant, source)."""
        self.payloads: dict[Key, set[bytes]] | None = None
        """Every payload received per key, once set to a dict (off by default)."""
        self._by_ssrc: dict[int, Key] = {}
        self._hooked: set[int] = set()

    # --- what the server offered --------------------------------------------------

    def learn_offer(self, offer_sdp: str, tracks: Iterable[tuple[str, str, str]]) -> None:
        """Maps the SSRCs of an offer's m-lines to the (participant, source) it names."""
        tracks = list(tracks)
        self.offered.append(tracks)
        by_mid = {mid: (participant, source) for mid, participant, source in tracks}
        for media in sdp.SessionDescription.parse(offer_sdp).media:
            key = by_mid.get(media.rtp.muxId or "")
            if key is not None:
                for ssrc in media.ssrc:
                    self._by_ssrc[ssrc.ssrc] = key

    def offered_keys(self) -> set[Key]:
        return {(participant, source) for offer in self.offered for _, participant, source in offer}

    # --- what arrives -------------------------------------------------------------

    def attach(self, pc: RTCPeerConnection | None) -> None:
        """Counts what arrives on every transport of this connection (call after each offer)."""
        if pc is None:
            return
        transports = [t.receiver.transport for t in pc.getTransceivers()]
        if pc.sctp is not None:
            transports.append(pc.sctp.transport)
        for dtls in transports:
            if dtls is None or id(dtls) in self._hooked:
                continue
            self._hooked.add(id(dtls))
            self._hook(dtls)

    def _hook(self, dtls: Any) -> None:
        original = dtls._handle_rtp_data

        async def counted(data: bytes, arrival_time_ms: int) -> None:
            self.count(data)
            await original(data, arrival_time_ms)

        dtls._handle_rtp_data = counted

    def count(self, data: bytes) -> None:
        header = _rtp_header(data)
        if header is None:
            return
        ssrc, _, payload = header
        key = self._by_ssrc.get(ssrc, ("?", f"ssrc:{ssrc}"))
        self.packets[key] += 1
        if self.payloads is not None:
            self.payloads.setdefault(key, set()).add(payload)
        if MARKER in payload:
            self.marked += 1

    # --- measuring ----------------------------------------------------------------

    def of(self, participant: str | None, source: str) -> int:
        return self.packets[(participant or "", source)]

    def snapshot(self) -> Counter[Key]:
        return Counter(self.packets)

    def since(self, snapshot: Counter[Key]) -> Counter[Key]:
        """Packets per key received after ``snapshot`` was taken."""
        return Counter({k: v - snapshot[k] for k, v in self.packets.items() if v > snapshot[k]})

    def participants(self) -> set[str]:
        """Every publisher whose packets reached this counter."""
        return {participant for participant, _ in self.packets}

    async def flows(
        self, participant: str | None, source: str, packets: int = 20, within: float = 30.0
    ) -> None:
        """Waits until ``packets`` more packets of this source arrived (a control phase)."""
        target = self.of(participant, source) + packets
        await until(
            lambda: self.of(participant, source) >= target,
            within,
            f"{packets} packets of {participant}'s {source}",
        )

    async def window(self, seconds: float) -> Counter[Key]:
        """What arrives during ``seconds``; the quiet interval is itself the measurement."""
        before = self.snapshot()
        await asyncio.sleep(seconds)
        return self.since(before)


class CountingMedia(MediaSession):
    """The SDK's media session, with a WireCounter on its subscribing connection."""

    def __init__(self, client: HonestCounter) -> None:
        super().__init__(client)
        self.counter = client.wire
        self._recorder = client

    async def apply_offer(self, offer: wire.SubscribeOffer) -> None:
        self._recorder.record(offer)
        self.counter.learn_offer(
            offer.sdp, [(t.mid, t.participant, t.source) for t in offer.tracks]
        )
        await super().apply_offer(offer)
        self.counter.attach(self._subscriber)


_NAMED = (wire.RosterEntry, wire.WaitingEntry, wire.SelfState)


class HonestCounter(MeetingClient):
    """An honest SDK participant that counts what reaches it and records what it is told."""

    def __init__(self, server: str, meeting_id: str, *, resume_automatically: bool = True) -> None:
        super().__init__(server, meeting_id, resume_automatically=resume_automatically)
        self.wire = WireCounter()
        self.texts: list[str] = []
        """The JSON text of every server message read (replies to requests aside)."""
        self.seen_ids: set[str] = set()
        self.seen_names: set[str] = set()

    @property
    def media(self) -> Any:
        if self._media is None:
            self._media = CountingMedia(self)
        return self._media

    def _take(self, message: Any) -> None:
        self.record(message)
        super()._take(message)

    def record(self, message: Any) -> None:
        self.texts.append(wire.encode(message))
        self._collect(message)

    def _collect(self, value: Any) -> None:
        """Participant ids and names anywhere in a message."""
        if isinstance(value, _NAMED):
            self.seen_ids.add(
                value.participant_id if isinstance(value, wire.SelfState) else value.id
            )
            self.seen_names.add(value.name)
        if isinstance(value, wire.OfferedTrack):
            self.seen_ids.add(value.participant)
        if isinstance(value, wire.Speaking):
            self.seen_ids.update(value.participants)
        if isinstance(value, wire.ChatMessage):
            self.seen_ids.update(i for i in (value.sender, value.to) if i)
            self.seen_names.add(value.sender_name)
        if isinstance(value, wire.Notice | wire.FileShared | wire.Welcome):
            for field in ("about", "sender", "participant_id"):
                found = getattr(value, field, None)
                if found:
                    self.seen_ids.add(found)
        if isinstance(value, wire.WireModel):
            for name in type(value).model_fields:
                self._collect(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                self._collect(item)

    def speaking_messages(self) -> list[list[str]]:
        """Every ``speaking`` message this participant was sent, in order."""
        return [
            message.participants
            for text in self.texts
            if isinstance(message := wire.SERVER_ADAPTER.validate_json(text), wire.Speaking)
        ]

    def mentions(self, needles: Iterable[str]) -> set[str]:
        """Which of these strings appear anywhere in what this participant was sent."""
        return {needle for needle in needles if any(needle in text for text in self.texts)}
