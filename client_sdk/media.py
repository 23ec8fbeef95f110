"""Media for bots: publish a camera, a microphone, a screen (synthetic or from a file),
and receive the others' tracks as frames to inspect.

    media = client.media
    decisions = await media.publish(camera=SyntheticVideoTrack(), microphone=SyntheticAudioTrack())
    await media.subscribe()
    track = await media.wait_for_track(other_id, "camera")
    frame = await track.recv()          # an av.VideoFrame: frame.to_ndarray(...)

The server decides, per source, whether it forwards what you publish (the
decisions come back from ``publish``); a refused source is simply not
forwarded. Publish it again once the policy allows it (after a grant). A
screen is forwarded only once it is confirmed (``client.confirm_share()``, or
``share_screen`` which publishes and confirms).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from meetwarden import protocol as wire
from meetwarden.rtc.consent import install_consent_checks

from .arguments import build, choices_of
from .errors import InvalidArgumentError, MeetwardenTimeoutError, PolicyRefusedError
from .keyframes import recover_at_keyframes
from .nack_repeats import repeat_nacks

if TYPE_CHECKING:
    from .client import MeetingClient

__all__ = ["MediaSession", "ReceivedTrack", "file_tracks", "loopback_only", "settled"]

_SURFACES = choices_of(wire.Surface)


def _checked_source(source: str) -> wire.Source:
    if source not in wire.SOURCES:
        raise InvalidArgumentError("source", source, "not a source", wire.SOURCES)
    return source


def _peer_connection(client: MeetingClient) -> RTCPeerConnection:
    """A media connection to the server. Its consent checks (RFC 7675) are the server's
    own (``meetwarden.rtc.consent``): a server that answers late, as a loaded one does,
    keeps the bot's connection; aioice alone closed it after six answers more than
    0.5 s late. Installed for the whole process, on the first connection."""
    install_consent_checks()
    return RTCPeerConnection(_configuration(client))


def _configuration(client: MeetingClient) -> RTCConfiguration:
    """The TURN server the server gave this participant, as ``client.ice`` chooses; never
    aiortc's default (Google's public STUN server: iceServers=None)."""
    chosen = client.ice.choose(client.ice_servers)
    servers = [] if chosen is None else [RTCIceServer(**chosen.model_dump())]
    # max-bundle: with aiortc's default ("balanced") a second video transceiver is bundled
    # onto the first video transport before negotiation, and a BUNDLE answer then stops
    # that transport, so the second video track is never sent (aiortc 1.16.0).
    return RTCConfiguration(
        iceServers=servers,
        bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        iceTransportPolicy=RTCIceTransportPolicy.RELAY
        if client.ice.relay_only
        else RTCIceTransportPolicy.ALL,
    )


def loopback_only() -> None:
    """Gather ICE candidates on 127.0.0.1 only (tests and local bots; process-wide)."""
    import aioice.ice

    def loopback(use_ipv4: bool = True, use_ipv6: bool = True) -> list[str]:
        return ["127.0.0.1"]

    aioice.ice.get_host_addresses = loopback


def file_tracks(path: str) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
    """(audio, video) tracks that play a media file, paced in real time (aiortc MediaPlayer)."""
    player = MediaPlayer(path)
    return player.audio, player.video


async def _connected(pc: RTCPeerConnection, timeout: float = 20.0) -> None:
    """Waits until a connection that is still connecting has connected.

    aiortc starts the senders and receivers of a renegotiation only if its transport
    is new or already connected (RTCPeerConnection.__connect); one still in its DTLS
    handshake leaves them unstarted for good. So renegotiate once connected.
    """
    if pc.connectionState in ("connected", "closed", "failed"):
        return
    done = asyncio.Event()

    @pc.on("connectionstatechange")
    def changed() -> None:
        if pc.connectionState in ("connected", "closed", "failed"):
            done.set()

    try:
        async with asyncio.timeout(timeout):
            await done.wait()
    except TimeoutError:
        raise MeetwardenTimeoutError("the media connection to connect", timeout) from None
    finally:
        pc.remove_listener("connectionstatechange", changed)


async def settled(pc: RTCPeerConnection, timeout: float = 5.0) -> None:
    """Until a connection given a remote description has connected or failed; call it
    before closing an aiortc connection.

    aiortc connects in a task of its own (RTCPeerConnection.__connect), which starts
    ICE and then DTLS for each transceiver in turn; a connection closed while that task
    waits on the DTLS handshake makes it start ICE again for the next transceiver on
    the closed transport, and fail with InvalidStateError("RTCIceTransport is closed"),
    an exception nobody retrieves (https://github.com/aiortc/aiortc/issues/429)."""
    if pc.remoteDescription is None:
        return
    with contextlib.suppress(MeetwardenTimeoutError):
        await _connected(pc, timeout)


@dataclass
class ReceivedTrack:
    """One other participant's track as this bot receives it."""

    participant: str
    source: wire.Source
    kind: str
    track: MediaStreamTrack
    transceiver: RTCRtpTransceiver
    frames: int = 0
    last_frame_at: float | None = None
    sizes: set[tuple[int, int]] = field(default_factory=set)

    async def recv(self) -> Any:
        """The next decoded frame (av.VideoFrame or av.AudioFrame)."""
        frame: Any = await self.track.recv()
        self.frames += 1
        self.last_frame_at = time.monotonic()
        if self.kind == "video":
            self.sizes.add((frame.width, frame.height))
        return frame

    async def packets(self) -> int:
        """RTP packets received on this track so far (from the receiver's statistics)."""
        total = 0
        for stats in (await self.transceiver.receiver.getStats()).values():
            if stats.type == "inbound-rtp":
                total += stats.packetsReceived
        return total


class MediaSession:
    """A participant's publishing and subscribing connections."""

    def __init__(self, client: MeetingClient) -> None:
        self._client = client
        self._publisher: RTCPeerConnection | None = None
        self._sending: dict[wire.Source, RTCRtpTransceiver] = {}
        self._surface: wire.Surface | None = None
        self._subscriber: RTCPeerConnection | None = None
        self._offered: dict[str, wire.OfferedTrack] = {}
        self.received: dict[tuple[str, wire.Source], ReceivedTrack] = {}
        self._changed = asyncio.Condition()
        self._lock = asyncio.Lock()
        self.decisions: list[wire.TrackDecision] = []
        self._notifying: set[asyncio.Future[None]] = set()
        self._closed = False

    # --- publishing -------------------------------------------------------------------

    async def publish(
        self,
        *,
        microphone: MediaStreamTrack | None = None,
        camera: MediaStreamTrack | None = None,
        screen: MediaStreamTrack | None = None,
        screen_audio: MediaStreamTrack | None = None,
        surface: wire.Surface = "window",
    ) -> list[wire.TrackDecision]:
        """Publishes these sources (adding to what is published); returns the server's
        decision on each source not forwarded before."""
        wanted = {
            "microphone": microphone,
            "camera": camera,
            "screen": screen,
            "screen_audio": screen_audio,
        }
        for source, track in wanted.items():
            kind = wire.kind_of(source)  # type: ignore[arg-type]
            if track is not None and track.kind != kind:
                raise InvalidArgumentError(
                    source, track, f"{source} takes a {kind} track, not {track.kind}"
                )
        if surface not in _SURFACES:
            raise InvalidArgumentError("surface", surface, "not a surface", _SURFACES)
        async with self._lock:
            if self._publisher is None:
                self._publisher = _peer_connection(self._client)
            else:
                await _connected(self._publisher)
            for source, track in wanted.items():
                if track is None:
                    continue
                existing = self._sending.get(source)  # type: ignore[call-overload]
                if existing is not None:
                    existing.sender.replaceTrack(track)
                else:
                    transceiver = self._publisher.addTransceiver(track, direction="sendonly")
                    self._sending[source] = transceiver  # type: ignore[index]
            if screen is not None:
                self._surface = surface
            return await self._negotiate()

    async def _negotiate(self) -> list[wire.TrackDecision]:
        assert self._publisher is not None
        await self._publisher.setLocalDescription(await self._publisher.createOffer())
        tracks = [
            wire.TrackInfo(
                mid=transceiver.mid or "",
                source=source,
                surface=self._surface if source == "screen" else None,
            )
            for source, transceiver in self._sending.items()
            if transceiver.mid is not None
        ]
        message = wire.Publish(sdp=self._publisher.localDescription.sdp, tracks=tracks)
        answer = await self._client.exchange(message, wire.PublishAnswer)
        await self._publisher.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
        self.decisions = list(answer.decisions)
        return self.decisions

    async def share_screen(
        self,
        screen: MediaStreamTrack,
        *,
        surface: wire.Surface = "window",
        screen_audio: MediaStreamTrack | None = None,
    ) -> wire.Result:
        """Publishes a screen and confirms it: what a person does with Share, then the
        preview's "Share this". Returns the confirmation's decision (``share_confirmed``);
        a refusal of either step (no grant, a surface the policy does not allow, someone
        else sharing) raises PolicyRefusedError and nothing of the screen is forwarded."""
        decisions = await self.publish(screen=screen, screen_audio=screen_audio, surface=surface)
        for decision in decisions:
            if decision.source == "screen" and not decision.allowed:
                raise PolicyRefusedError(
                    decision.reason,
                    decision.rule,
                    decision.message,
                    decision_id=decision.decision_id,
                )
        return await self._client.confirm_share()

    async def republish(self) -> list[wire.TrackDecision]:
        """Asks again for sources that were refused (for example after a grant)."""
        async with self._lock:
            return await self._negotiate()

    async def stop(self, source: wire.Source) -> wire.Result:
        """Stops sending a source; for a screen this ends the share (and, usually, its grant):
        one call, whether the share was confirmed or not."""
        source = _checked_source(source)
        transceiver = self._sending.get(source)
        if transceiver is not None:
            track = transceiver.sender.track
            if track is not None:
                track.stop()
            transceiver.sender.replaceTrack(None)
        return await self._client.request(build(wire.StopPublish, source=source))

    # --- subscribing ------------------------------------------------------------------

    async def tile_size(self, participant: str, source: str, width: int, height: int) -> None:
        """Says the size (device pixels) you show a participant's camera or screen at: the
        server forwards the smallest simulcast layer that covers it (a browser publisher's
        layers; this SDK publishes one). No answer unless refused; call again on resize."""
        message = build(
            wire.TileSize, participant=participant, source=source, width=width, height=height
        )
        await self._client.send(message)

    async def subscribe(self) -> None:
        """Starts receiving the others' media; new offers are answered as tracks come and go."""
        offer = await self._client.exchange(wire.Subscribe(), wire.SubscribeOffer)
        await self.apply_offer(offer)

    async def apply_offer(self, offer: wire.SubscribeOffer) -> None:
        """Answers a subscriber offer (the server sends one whenever tracks come and go)."""
        async with self._lock:
            if self._closed:
                return
            if self._subscriber is None:
                self._subscriber = _peer_connection(self._client)
                self._subscriber.on("track", self._on_track)
            else:
                await _connected(self._subscriber)
            for track in offer.tracks:
                self._offered[track.mid] = track
            await self._subscriber.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            recover_at_keyframes(self._subscriber)
            repeat_nacks(self._subscriber)
            await self._subscriber.setLocalDescription(await self._subscriber.createAnswer())
            await self._client.send(wire.SubscribeAnswer(sdp=self._subscriber.localDescription.sdp))

    def _on_track(self, track: MediaStreamTrack) -> None:
        assert self._subscriber is not None
        for transceiver in self._subscriber.getTransceivers():
            offered = self._offered.get(transceiver.mid or "")
            if transceiver.receiver.track is track and offered is not None:
                key = (offered.participant, offered.source)
                self.received[key] = ReceivedTrack(
                    offered.participant, offered.source, track.kind, track, transceiver
                )
                self._notifying.add(task := asyncio.ensure_future(self._notify()))
                task.add_done_callback(self._notifying.discard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_track(
        self, participant: str, source: wire.Source, timeout: float = 15.0
    ) -> ReceivedTrack:
        """The other participant's track of that source, once it is offered and arriving.

        Raises MeetwardenTimeoutError when none arrives in ``timeout`` seconds: the other
        did not publish it, the policy does not forward it, or you did not ``subscribe()``.
        """
        source = _checked_source(source)
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: (participant, source) in self.received)
        except TimeoutError:
            what = f"{participant}'s {source} track (did you subscribe()?)"
            raise MeetwardenTimeoutError(what, timeout) from None
        return self.received[(participant, source)]

    async def count_frames(
        self, track: ReceivedTrack, until: Callable[[ReceivedTrack], bool], timeout: float = 15.0
    ) -> ReceivedTrack:
        """Receives frames from a track until ``until(track)`` holds."""
        try:
            async with asyncio.timeout(timeout):
                while not until(track):
                    try:
                        await track.recv()
                    except MediaStreamError:
                        break
        except TimeoutError:
            what = f"frames of {track.participant}'s {track.source} ({track.frames} so far)"
            raise MeetwardenTimeoutError(what, timeout) from None
        return track

    async def close(self) -> None:
        self._closed = True
        for pc in (self._publisher, self._subscriber):
            if pc is not None:
                with contextlib.suppress(Exception):
                    await settled(pc)
                    await pc.close()
        self._publisher = self._subscriber = None
