"""Simulcast from real Chromium, seen by SDK viewers: shared by tests/browser and bench/.

``HD_CAMERA_AND_HANDLES`` is a page init script: the camera at 1280x720 (Chrome
then sends three simulcast layers, from 960x540 up) and every socket and peer
connection of the page kept where a test can reach them; ``SENT_PER_LAYER``
reads the page's packets (and frames) sent per layer from ``getStats``. A
``Viewer`` is an SDK participant that counts sequence numbers and logs the size
of every frame it decodes; a ``RelayedViewer`` is one whose subscribing
connection goes through an ``ImpairedLink`` (tests/support/impair.py): the
server's offer and its answer are rewritten as the relay's docstring says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from meetwarden import protocol as wire

from .browser import KEEP_PEER_CONNECTIONS
from .counting import CountingMedia, HonestCounter, Key, WireCounter, until
from .frame_log import FrameLog
from .impair import ImpairedLink

__all__ = [
    "FRAMES_SENT_PER_LAYER",
    "HD_CAMERA_AND_HANDLES",
    "SENT_PER_LAYER",
    "RelayedViewer",
    "SequenceCounter",
    "Viewer",
]

# The camera at 720p (Chrome sends three simulcast layers from 960x540 up), and every
# socket and peer connection of the page kept where the test can reach them.
HD_CAMERA_AND_HANDLES = (
    """(() => {
  const devices = navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    if (constraints && constraints.video) {
      const video = typeof constraints.video === 'object' ? constraints.video : {};
      const hd = { width: { exact: 1280 }, height: { exact: 720 } };
      constraints = { ...constraints, video: { ...video, ...hd } };
    }
    return original(constraints);
  };
  const Socket = window.WebSocket;
  window.sockets = [];
  window.sentMessages = [];
  window.WebSocket = function (...args) {
    const socket = new Socket(...args);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      try { window.sentMessages.push(JSON.parse(data)); } catch { /* not JSON */ }
      return send(data);
    };
    window.sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Socket.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""
    + KEEP_PEER_CONNECTIONS
)
# Packets sent per simulcast layer (outbound-rtp by rid) of the page's video.
SENT_PER_LAYER = """async () => {
  const sent = {};
  for (const pc of window.peerConnections) {
    (await pc.getStats()).forEach((stats) => {
      if (stats.type === 'outbound-rtp' && stats.kind === 'video' && stats.rid) {
        sent[stats.rid] = (sent[stats.rid] ?? 0) + stats.packetsSent;
      }
    });
  }
  return sent;
}"""
# Frames sent per simulcast layer (outbound-rtp by rid) of the page's video.
FRAMES_SENT_PER_LAYER = """async () => {
  const sent = {};
  for (const pc of window.peerConnections) {
    (await pc.getStats()).forEach((stats) => {
      if (stats.type === 'outbound-rtp' && stats.kind === 'video') {
        const rid = stats.rid ?? 'single';
        sent[rid] = (sent[rid] ?? 0) + (stats.framesSent ?? 0);
      }
    });
  }
  return sent;
}"""


class SequenceCounter(WireCounter):
    """A WireCounter that also keeps each key's RTP sequence numbers, in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self.sequences: dict[Key, list[int]] = {}

    def count(self, data: bytes) -> None:
        super().count(data)
        if len(data) >= 12 and not 192 <= data[1] <= 223:
            key = self._by_ssrc.get(int.from_bytes(data[8:12], "big"))
            if key is not None:
                self.sequences.setdefault(key, []).append(int.from_bytes(data[2:4], "big"))


class Viewer(HonestCounter):
    """An SDK viewer that counts sequence numbers and logs every decoded frame's size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire = SequenceCounter()
        self.log = FrameLog("viewer")
        self.label = "viewer"
        self.sizes: list[tuple[float, int, int]] = []
        self.stamps: list[int] = []  # each decoded frame's RTP timestamp
        self.reader: asyncio.Task[None] | None = None

    def watch(self, key: Key) -> None:
        received = self.media.received[key]

        async def read() -> None:
            while True:
                frame = await received.recv()
                self.log.decoded(len(self.sizes))
                self.sizes.append((time.monotonic(), frame.width, frame.height))
                self.stamps.append(frame.pts)

        self.reader = asyncio.ensure_future(read())

    def decoder_thread(self, key: Key) -> int | None:
        thread = getattr(
            self.media.received[key].transceiver.receiver, "_RTCRtpReceiver__decoder_thread", None
        )
        return None if thread is None else thread.ident

    async def size_becomes(self, wanted: Callable[[int, int], bool], within: float = 45.0) -> int:
        """Waits for a decoded frame of a wanted size; returns its index in ``sizes``."""
        start = len(self.sizes)

        def found() -> int | None:
            return next(
                (n for n in range(start, len(self.sizes)) if wanted(*self.sizes[n][1:])), None
            )

        await until(lambda: found() is not None, within, "a frame of the wanted size")
        index = found()
        assert index is not None
        return index


class _RelayedMedia(CountingMedia):
    """The SDK's media session, reading the server's offers through the relay."""

    def __init__(self, client: RelayedViewer) -> None:
        super().__init__(client)
        self._link = client.link

    async def apply_offer(self, offer: wire.SubscribeOffer) -> None:
        sdp = self._link.through_client(offer.sdp)
        await super().apply_offer(offer.model_copy(update={"sdp": sdp}))


class RelayedViewer(Viewer):
    """A ``Viewer`` whose subscribing connection goes through ``link`` (set before
    subscribing): the offer is rewritten on its way in, the answer on its way out."""

    link: ImpairedLink

    @property
    def media(self) -> Any:
        if self._media is None:
            self._media = _RelayedMedia(self)
        return self._media

    async def send(self, message: wire.Request) -> None:
        if isinstance(message, wire.SubscribeAnswer):
            message = message.model_copy(update={"sdp": self.link.through_server(message.sdp)})
        await super().send(message)
