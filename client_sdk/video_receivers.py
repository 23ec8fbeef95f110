"""The video receivers of a bot's connection, which the SDK's repairs attach to."""

from __future__ import annotations

from collections.abc import Iterator

from aiortc import RTCPeerConnection, RTCRtpReceiver

__all__ = ["video_receivers"]


def video_receivers(pc: RTCPeerConnection) -> Iterator[RTCRtpReceiver]:
    """Each video receiver of ``pc`` (made by ``setRemoteDescription``)."""
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video" and transceiver.receiver is not None:
            yield transceiver.receiver
