"""Releasing a peer connection's sockets whatever aiortc's ``close()`` does (V4)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiortc import RTCPeerConnection

__all__ = ["open_sockets", "release_peer_connection"]

logger = logging.getLogger(__name__)


def _ice_connections(pc: RTCPeerConnection) -> list[Any]:
    transports: Iterable[Any] = getattr(pc, "_RTCPeerConnection__iceTransports", ())
    connections = [t._connection for t in transports]
    for transceiver in pc.getTransceivers():
        connections.append(transceiver.receiver.transport.transport._connection)
    if pc.sctp is not None:
        connections.append(pc.sctp.transport.transport._connection)
    unique: dict[int, Any] = {id(c): c for c in connections}
    return list(unique.values())


def open_sockets(pc: RTCPeerConnection) -> int:
    """How many UDP sockets the connection's ICE agents hold open (for tests and metrics)."""
    return sum(
        1
        for connection in _ice_connections(pc)
        for protocol in getattr(connection, "_protocols", ())
        if getattr(protocol, "transport", None) is not None and not protocol.transport.is_closing()
    )


async def release_peer_connection(pc: RTCPeerConnection, close_within: float = 5.0) -> None:
    """Close a peer connection and its sockets, whatever aiortc's ``close()`` does (V4).

    ``close()`` raises AttributeError after some failed negotiations
    (``notes/probes/leak.py``) and could hang on a stuck transport; either way
    every UDP socket the connection gathered is closed here, including those of
    a transport added while ``close()`` ran.
    """
    connections = _ice_connections(pc)
    try:
        await asyncio.wait_for(pc.close(), close_within)
    except Exception as exc:  # V4: aiortc's close() is not trusted to succeed
        logger.debug("RTCPeerConnection.close() raised %r; releasing sockets by hand", exc)
    # Transports a negotiation still under way added while close() ran count too.
    connections += [c for c in _ice_connections(pc) if all(c is not k for k in connections)]
    for connection in connections:
        for protocol in list(getattr(connection, "_protocols", ())):
            transport = getattr(protocol, "transport", None)
            if transport is not None and not transport.is_closing():
                with contextlib.suppress(Exception):
                    transport.close()
