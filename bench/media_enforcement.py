"""Measurement 3 of bench/media_meeting.py: enforcement latency through the whole server.

A host, a publisher (microphone, camera, screen) and 8 subscribers in one
meeting; the host mutes the microphone or revokes the screen share at random
phase against the packets, then lets it flow again. The server
(bench/meeting_server.py) records when each request arrived on its WebSocket,
when the gate closed, and the last packet of that track it forwarded.

Several meetings, each on its own server, can take turns (``pause``/``resume``):
the paused one's publisher drops its frames before the encoder, so the
machine's load during a round is the active meeting's alone.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import time
from collections import defaultdict
from typing import Any

import av
import httpx
from aiortc import MediaStreamTrack

from meetwarden.client_sdk import GrantReceived, HostAPI, MeetingClient
from meetwarden.client_sdk.media import _connected
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import primary_transport

__all__ = ["EnforcementMeeting", "Listener", "percentile", "wait_flowing"]

_SSRC = re.compile(r"^a=ssrc:(\d+) ", re.M)
_MID = re.compile(r"^a=mid:(\S+)", re.M)
POLICY = {
    "entry": {"waiting_room": {"enabled": False}, "full_name": {"required": False}},
    "audio": {"mute_on_entry": False, "unmute": "self"},
    "screen_share": {"allowed": "with_grant"},
}


class Listener:
    """A subscribing bot's raw RTP, by (publisher, source), with arrival times."""

    def __init__(self, client: MeetingClient) -> None:
        self.client = client
        self.by_ssrc: dict[int, tuple[str, str]] = {}
        self.arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.frames: dict[tuple[str, str], int] = defaultdict(int)
        self.sequences: dict[tuple[str, str], list[int]] = defaultdict(list)

    async def attach(self) -> None:
        """Counts the subscriber's RTP where it lands, before aiortc decrypts it.

        SRTP leaves the RTP header in clear (RFC 3711 3.1), so sequence numbers,
        marker bits and SSRCs are read off each datagram; RTP never reaches aiortc
        (no decryption, no decoding), which lets one process stand in for many
        receivers. DTLS, STUN and RTCP still go to aiortc as before.
        """
        pc = self.client.media._subscriber
        await _connected(pc)
        dtls = primary_transport(pc)
        assert dtls is not None
        protocol = dtls.transport._connection._nominated[1].protocol
        original = protocol.datagram_received

        def datagram_received(data: bytes, addr: Any) -> None:
            if len(data) >= 12 and 0x80 <= data[0] <= 0xBF and not 192 <= data[1] <= 223:
                self.on_rtp(data)
                return
            original(data, addr)

        protocol.datagram_received = datagram_received

    def _learn(self) -> None:
        pc = self.client.media._subscriber
        sdp = pc.remoteDescription.sdp if pc and pc.remoteDescription else ""
        for section in sdp.split("\nm=")[1:]:
            mid, ssrc = _MID.search(section), _SSRC.search(section)
            offered = self.client.media._offered.get(mid.group(1)) if mid else None
            if ssrc and offered:
                self.by_ssrc[int(ssrc.group(1))] = (offered.participant, offered.source)

    def on_rtp(self, data: bytes) -> None:
        ssrc = int.from_bytes(data[8:12], "big")
        key = self.by_ssrc.get(ssrc)
        if key is None:
            self._learn()
            key = self.by_ssrc.get(ssrc)
            if key is None:
                return
        self.arrivals[key].append(time.monotonic())
        self.sequences[key].append(int.from_bytes(data[2:4], "big"))
        if data[1] & 0x80 and key[1] in ("camera", "screen"):
            self.frames[key] += 1

    def last_after(self, key: tuple[str, str], since: float) -> float | None:
        arrivals = self.arrivals[key]
        late = [t for t in arrivals[-200:] if t >= since]
        return max(late) if late else None

    def count_after(self, key: tuple[str, str], since: float) -> int:
        return sum(1 for t in self.arrivals[key][-400:] if t > since)


async def wait_flowing(
    listeners: list[Listener], key: tuple[str, str], within: float = 10.0
) -> None:
    mark = time.monotonic()
    deadline = mark + within
    while not all(listener.count_after(key, mark) >= 3 for listener in listeners):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key} did not resume")
        await asyncio.sleep(0.01)  # polling the listeners' packet counters


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Pausable(MediaStreamTrack):
    """A synthetic source the bench can pause. While paused its frames are still taken
    at the source's pace and dropped before the encoder: nothing is encoded or sent,
    and on resume the source's clock has not fallen behind (no burst of late frames)."""

    def __init__(self, source: MediaStreamTrack, running: asyncio.Event) -> None:
        super().__init__()
        self.kind = source.kind
        self.source, self.running = source, running

    async def recv(self) -> av.frame.Frame:
        while True:
            frame = await self.source.recv()
            if self.running.is_set():
                return frame


class EnforcementMeeting:
    """One meeting on one server, its bots in this process, mute and revoke cycles."""

    def __init__(self, url: str, subscribers: int = 8, api_key: str | None = None) -> None:
        self.url, self.subscribers, self.api_key = url, subscribers, api_key
        self.running = asyncio.Event()
        self.running.set()
        self.round_trips: list[float] = []
        self.cycles_done = 0
        self.clients: list[MeetingClient] = []
        self.listeners: list[Listener] = []

    async def open(self) -> None:
        created = await HostAPI.create_meeting(self.url, POLICY, api_key=self.api_key)
        self.host = await MeetingClient.connect(
            created.join_url, name="Host", host_token=created.host_token
        )
        self.publisher = await MeetingClient.connect(created.join_url, name="Publisher")
        self.clients += [self.host, self.publisher]
        assert self.publisher.participant_id is not None
        self.pid = self.publisher.participant_id
        await self.host.grant(self.pid, "screen", minutes=60)
        await self.publisher.wait_for(GrantReceived)
        await self.publisher.media.publish(
            camera=Pausable(SyntheticVideoTrack(640, 480, 30), self.running),
            microphone=Pausable(SyntheticAudioTrack(), self.running),
            screen=Pausable(SyntheticVideoTrack(640, 480, 30), self.running),
        )
        await self.publisher.confirm_share()  # a screen is forwarded once confirmed
        for index in range(self.subscribers):
            bot = await MeetingClient.connect(created.join_url, name=f"Subscriber {index}")
            self.clients.append(bot)
            await bot.media.subscribe()
            listener = Listener(bot)
            await listener.attach()
            self.listeners.append(listener)
        await self.flowing(30)

    async def flowing(self, within: float = 10.0) -> None:
        for key in ((self.pid, "microphone"), (self.pid, "screen")):
            await wait_flowing(self.listeners, key, within)

    def pause(self) -> None:
        self.running.clear()

    async def resume(self) -> None:
        self.running.set()
        await self.flowing()

    async def cycles(self, count: int) -> None:
        """Mutes the microphone or revokes the screen (in turn), then lets it flow again."""
        for _ in range(count):
            source = "microphone" if self.cycles_done % 2 == 0 else "screen"
            self.cycles_done += 1
            await asyncio.sleep(random.uniform(0.05, 0.25))  # random phase against the packets
            sent = time.monotonic()
            if source == "microphone":
                await self.host.mute(self.pid)
            else:
                await self.host.revoke(self.pid, "screen")
            self.round_trips.append(time.monotonic() - sent)
            if source == "microphone":
                await self.publisher.request_unmute()
            else:
                await self.host.grant(self.pid, "screen", minutes=60)
                await self.publisher.wait_for(GrantReceived)
                await self.publisher.media.republish()
                await self.publisher.confirm_share()
            await wait_flowing(self.listeners, (self.pid, source))

    async def figures(self) -> dict[str, Any]:
        """What the server recorded for this meeting's cycles, and the host's round trips."""
        to_last, to_gate, late = [], [], 0
        async with httpx.AsyncClient() as http:
            for source in ("microphone", "screen"):
                reply = await http.get(
                    f"{self.url}/bench/enforcement",
                    params={"participant": self.pid, "source": source},
                )
                for sample in reply.json()["samples"]:
                    to_last.append(sample["to_last_packet_ms"])
                    to_gate.append(sample["to_gate_ms"])
                    late += sample["forwarded_after_gate"]
        return {
            "samples": len(to_last),
            "p50_ms": statistics.median(to_last),
            "p99_ms": percentile(to_last, 0.99),
            "max_ms": max(to_last),
            "to_gate_p50_ms": statistics.median(to_gate),
            "to_gate_p99_ms": percentile(to_gate, 0.99),
            "late_packets": late,
            "host_round_trip_p50_ms": 1000 * statistics.median(self.round_trips),
            "host_round_trip_p99_ms": 1000 * percentile(self.round_trips, 0.99),
        }

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
