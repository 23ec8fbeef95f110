"""A client that ignores the server: the attacker of the enforcement tests.

It speaks the wire protocol by hand over its own WebSocket (raw JSON it
chooses: a join with any tokens, requests the server refused, publish offers
while waiting...) and runs its own aiortc connections, whose synthetic camera,
microphone and screen keep sending whatever the server answers. It can also
send packets the server never agreed to: RTP on an SSRC its offer did not
declare, and media on an m-line it declared no source for (written straight
to the DTLS transport, as tests/media/test_feedback.py does to lose packets).

Every forged packet (``forging.py``) carries ``counting.MARKER`` in its payload,
so an honest participant's ``WireCounter`` recognises it wherever it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import websockets
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from websockets.asyncio.client import ClientConnection

from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

from . import forging
from .counting import WireCounter, until

__all__ = ["Adversary", "Undeclared", "camera", "decisions", "microphone", "screen"]

_CONFIGURATION = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
_CODEC = {"audio": "audio/opus", "video": "video/vp8"}
Undeclared = None
"""In ``publish(declare=...)``: send this m-line but name no source for it."""


def camera() -> SyntheticVideoTrack:
    return SyntheticVideoTrack(160, 120, fps=15)


def screen() -> SyntheticVideoTrack:
    return SyntheticVideoTrack(320, 180, fps=10)


def microphone() -> SyntheticAudioTrack:
    return SyntheticAudioTrack(frequency=660.0)


async def _connected(pc: RTCPeerConnection, timeout: float = 20.0) -> None:
    """aiortc starts a renegotiation's receivers only on a connected transport
    (client_sdk/media.py ``_connected`` has the whole story)."""
    await until(
        lambda: pc.connectionState in ("connected", "closed", "failed"), timeout, "connected"
    )


class Adversary:
    """One stubborn participant: raw signalling, its own peer connections, forged RTP."""

    def __init__(self, server_url: str, meeting_id: str, name: str = "Eve Mallory") -> None:
        self.ws_url = server_url.replace("http", "ws", 1) + f"/ws/meetings/{meeting_id}"
        self.meeting_id = meeting_id
        self.name = name
        self.messages: list[dict[str, Any]] = []
        """Every message the server sent, over every socket, in order."""
        self.texts: list[str] = []
        self.participant_id: str | None = None
        self.role: str | None = None
        self.device_token: str | None = None
        self.resume_token: str | None = None
        self.status = "new"
        self.you: dict[str, Any] | None = None
        self.publisher: RTCPeerConnection | None = None
        self.sending: dict[str, RTCRtpTransceiver] = {}
        """What it sends, by the source it really is (whatever it told the server)."""
        self.sent: Counter[str] = Counter()
        """RTP packets its publishing connection wrote, by source (forged ones included)."""
        self.received = WireCounter()
        self.subscriber: RTCPeerConnection | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._answering = asyncio.Lock()
        self._ssrc_source: dict[int, str] = {}
        self._transports: list[Any] = []
        """Every publishing transport it ever had: it writes forged packets on all of them."""
        self._sequence: dict[int, int] = {}
        """The last sequence number written per SSRC (SRTP refuses to protect an old one)."""

    # --- signalling -----------------------------------------------------------------

    async def join(self, timeout: float = 15.0, **fields: Any) -> dict[str, Any]:
        """A new socket and a join with whatever fields (tokens) it chooses; the old socket
        stays open unless ``drop`` closed it. Returns waiting, admitted, join_refused or error.

        Sent to the node that holds the meeting (``moved``, several nodes), it joins
        there, as every client does."""
        for _ in range(3):
            answer = await self._join_once(timeout, fields)
            if answer["type"] != "moved":
                return answer
            self.ws_url = answer["server"].replace("http", "ws", 1) + (
                f"/ws/meetings/{self.meeting_id}"
            )
        return answer

    async def _join_once(self, timeout: float, fields: dict[str, Any]) -> dict[str, Any]:
        socket = await websockets.connect(self.ws_url, open_timeout=timeout, max_size=2**22)
        self._socket = socket
        first = len(self.messages)
        self._reader = asyncio.create_task(self._read(socket))
        await socket.send(json.dumps({"type": "join", "name": self.name, **fields}))
        answers = ("waiting", "admitted", "join_refused", "error", "moved")
        try:
            return await self.wait_for(lambda m: m["type"] in answers, timeout, after=first)
        except ConnectionError:  # closed without an answer: say so, as the server did
            return {"type": "closed", "code": socket.close_code, "reason": socket.close_reason}

    async def resume(self, **fields: Any) -> dict[str, Any]:
        """Drops the socket (as a network would) and joins again with its tokens."""
        await self.drop()
        tokens = {"resume_token": self.resume_token, "device_token": self.device_token}
        return await self.join(**{**tokens, **fields})

    async def _read(self, socket: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in socket:
                message = json.loads(text)
                self.texts.append(str(text))
                self.messages.append(message)
                self._take(message, socket)
                async with self._arrived:
                    self._arrived.notify_all()
        if socket is self._socket:
            self.status = "closed" if self.status != "dismissed" else self.status
        async with self._arrived:
            self._arrived.notify_all()

    def _take(self, message: dict[str, Any], socket: ClientConnection) -> None:
        kind = message["type"]
        if message.get("resume_token"):  # every welcome brings a new one; admitted repeats it
            self.resume_token = message["resume_token"]
        if kind == "welcome":
            self.participant_id, self.role = message["participant_id"], message["role"]
            self.device_token = message["device_token"]
        elif kind in ("waiting", "back_to_waiting_room"):
            self.status = "waiting"
        elif kind == "admitted":
            self.status, self.you, self.role = "admitted", message["you"], message["you"]["role"]
        elif kind == "you":
            self.you, self.role = message["you"], message["you"]["role"]
        elif kind == "dismissed":
            self.status = "dismissed"
        ref = message.get("ref")
        if ref is not None and ref in self._pending:
            future = self._pending.pop(ref)
            if not future.done():
                future.set_result(message)
        elif kind == "subscribe_offer" and self.subscriber is not None:
            self._spawn(self.answer(message))

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 15.0,
        after: int = 0,
    ) -> dict[str, Any]:
        """The first message (from index ``after`` on) that matches; ConnectionError if the
        socket closes without one."""
        async with asyncio.timeout(timeout), self._arrived:
            while True:
                for message in self.messages[after:]:
                    if predicate(message):
                        return message
                if self._reader is not None and self._reader.done():
                    socket = self._socket
                    code = socket.close_code if socket else None
                    raise ConnectionError(f"the server closed the socket ({code})")
                await self._arrived.wait()

    def seen(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def send(self, message: dict[str, Any]) -> None:
        assert self._socket is not None
        await self._socket.send(json.dumps(message))

    async def request(self, message: dict[str, Any], timeout: float = 20.0) -> dict[str, Any]:
        """Sends a request with an id; the reply with that ref, whatever its type."""
        ref = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        await self.send({**message, "id": ref})
        async with asyncio.timeout(timeout):
            return await future

    async def drop(self) -> None:
        """Closes the socket only: its peer connections go on sending."""
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    # --- publishing -------------------------------------------------------------------

    async def publish(
        self,
        tracks: Mapping[str, MediaStreamTrack] | None = None,
        *,
        declare: Mapping[str, str | None] | None = None,
        surface: str = "window",
        fresh: bool = False,
        hide_undeclared: bool = True,
        munge: Callable[[str], str] | None = None,
    ) -> dict[str, Any]:
        """Offers its tracks (added to what it sends) and tells the server each m-line's
        source: the real one, or what ``declare`` says (``Undeclared``: no source at all;
        such an m-line is offered ``inactive`` so that the server takes the offer, unless
        ``hide_undeclared`` is False). ``munge`` rewrites the offer last. The answer is
        applied if there is one; the media goes on whatever the reply."""
        if self.publisher is not None and self.publisher.connectionState == "closed":
            fresh = True  # the server released its end: offer the same media on a new one
        if fresh or self.publisher is None:
            kept = {s: t.sender.track for s, t in self.sending.items() if t.sender.track}
            tracks = {**kept, **(tracks or {})}
            await self._close_publisher()
            self.publisher = RTCPeerConnection(_CONFIGURATION)
        elif self.publisher.remoteDescription is not None:
            await _connected(self.publisher)
        for source, track in (tracks or {}).items():
            if source in self.sending:
                self.sending[source].sender.replaceTrack(track)
            else:
                self.sending[source] = self.publisher.addTransceiver(track, direction="sendonly")
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        declared = {**{s: s for s in self.sending}, **(declare or {})}
        hidden = {t.mid for s, t in self.sending.items() if declared.get(s) is None and t.mid}
        described = [
            {"mid": t.mid, "source": declared[s], "surface": surface}
            for s, t in self.sending.items()
            if t.mid is not None and declared.get(s) is not None
        ]
        offer = self.publisher.localDescription.sdp
        if hide_undeclared:
            offer = forging.inactive(offer, hidden)
        offer = munge(offer) if munge is not None else offer
        reply = await self.request({"type": "publish", "sdp": offer, "tracks": described})
        if reply["type"] == "publish_answer":
            answer = RTCSessionDescription(reply["sdp"], "answer")
            await self.publisher.setRemoteDescription(answer)
            self._tap_sent()
        return reply

    def _tap_sent(self) -> None:
        for source, transceiver in self.sending.items():
            self._ssrc_source[transceiver.sender._ssrc] = source
            self._ssrc_source[transceiver.sender._rtx_ssrc] = f"{source}-rtx"
        dtls = self._publisher_transport()
        if dtls is None or getattr(dtls, "_adversary_tapped", False):
            return
        self._transports.append(dtls)
        original = dtls._send_rtp

        async def counted(data: bytes) -> None:
            if not forging.is_rtcp(data) and len(data) >= 12:
                ssrc = int.from_bytes(data[8:12], "big")
                self.sent[self._ssrc_source.get(ssrc, f"ssrc:{ssrc}")] += 1
                self._sequence[ssrc] = int.from_bytes(data[2:4], "big")
            await original(data)

        dtls._send_rtp = counted
        dtls._adversary_tapped = True

    def _publisher_transport(self) -> Any:
        if self.publisher is None:
            return None
        for transceiver in self.publisher.getTransceivers():
            if transceiver.sender.transport is not None:
                return transceiver.sender.transport
        return None

    async def stop_publish(self, source: str) -> dict[str, Any]:
        """Tells the server it stopped; its track keeps sending all the same."""
        return await self.request({"type": "stop_publish", "source": source})

    # --- forged packets ---------------------------------------------------------------

    def ssrc_of(self, source: str, rtx: bool = False) -> int:
        sender = self.sending[source].sender
        return int(sender._rtx_ssrc if rtx else sender._ssrc)

    def mid_of(self, source: str) -> str:
        mid = self.sending[source].mid
        assert mid is not None, f"{source} is not negotiated yet"
        return mid

    def payload_type_of(self, source: str) -> int:
        transceiver = self.sending[source]
        for codec in transceiver._codecs:
            if codec.mimeType.lower() == _CODEC[transceiver.kind]:
                return int(codec.payloadType)
        raise AssertionError(f"{source} negotiated no {_CODEC[transceiver.kind]}")

    async def inject(
        self,
        ssrc: int,
        payload_type: int,
        count: int = 100,
        mid: str | None = None,
        kind: str = "video",
    ) -> int:
        """Writes ``count`` forged RTP packets (20 ms apart) on every publishing transport it
        ever had, past aiortc's senders (and past a closed transport's state check);
        returns how many left on at least one. Each carries MARKER; a video one is a whole
        VP8 keyframe as far as its headers go, so a forwarder that waits for a keyframe
        would start on it. ``mid`` goes in the mid header extension (RFC 8843 15.2)."""
        assert self._transports, "publish first: a transport comes with an answer"
        extension_ids = [
            e.id
            for t in self.sending.values()
            for e in t._headerExtensions
            if e.uri == forging.MID_URI and e.id
        ]
        extension = b""
        if mid is not None and extension_ids:
            extension = forging.mid_extension(extension_ids[0], mid)
        sequence = self._sequence.get(ssrc, random.getrandbits(15))
        timestamp = random.getrandbits(31)
        written = 0
        for n in range(count):
            sequence = (sequence + 1) & 0xFFFF
            packet = forging.packet(ssrc, payload_type, sequence, timestamp, extension, kind, n)
            sent = [await forging.write(dtls, packet) for dtls in self._transports]
            written += any(sent)
            timestamp += 960
            await asyncio.sleep(0.02)  # the pace of a real stream, not a wait on an event
        return written

    # --- subscribing --------------------------------------------------------------------

    async def subscribe(self) -> dict[str, Any]:
        """Asks for the others' media; an offer is answered (and every later one)."""
        if self.subscriber is None:
            self.subscriber = RTCPeerConnection(_CONFIGURATION)
        reply = await self.request({"type": "subscribe"})
        if reply["type"] == "subscribe_offer":
            await self.answer(reply)
        return reply

    async def answer(self, offer: dict[str, Any]) -> None:
        async with self._answering:
            pc = self.subscriber
            if pc is None or pc.connectionState == "closed":
                return
            if pc.remoteDescription is not None:
                await _connected(pc)
            tracks = [(t["mid"], t["participant"], t["source"]) for t in offer["tracks"]]
            self.received.learn_offer(offer["sdp"], tracks)
            await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            self.received.attach(pc)
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send({"type": "subscribe_answer", "sdp": pc.localDescription.sdp})

    # --- the end ------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_publisher(self) -> None:
        if self.publisher is not None:
            with contextlib.suppress(Exception):
                await self.publisher.close()
        self.publisher = None
        self.sending = {}

    async def close(self) -> None:
        await self.drop()
        for task in list(self._tasks):
            task.cancel()
        await self._close_publisher()
        if self.subscriber is not None:
            with contextlib.suppress(Exception):
                await self.subscriber.close()
            self.subscriber = None

    def mentions(self, needles: Any) -> set[str]:
        """Which of these strings appear anywhere in what the server sent it."""
        return {needle for needle in needles if any(needle in text for text in self.texts)}


def decisions(reply: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(source, allowed, reason) of each decision in a publish_answer."""
    return [(d["source"], d["allowed"], d["reason"]) for d in reply.get("decisions", [])]
