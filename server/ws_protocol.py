"""uvicorn's WebSocket protocol, whose closed connections go at once, not at a full pass.

uvicorn's default WebSocket implementation (``websockets-sansio``) keeps, for each
connection, the ``websockets`` library's sans-I/O protocol as ``conn``. That protocol
parses what arrives with a generator it keeps (``self.parser = self.parse()``, replaced by
``self.discard()`` once the connection closes; websockets/protocol.py), and the
generator's frame holds the protocol: every connection is a reference cycle from its
start. When the connection ends, its protocol, stream reader, buffers, handshake request
and response wait for the cycle collector. A long-lived connection has been promoted to
the oldest generation by then, which only a full pass walks, and a serving process's full
passes are rare (``collector.py``): after three rounds of the joins bench, 1,571 closed
connections' protocols were still in memory, and one full pass of 82 ms freed them with
about 17,000 other objects.

Here, once uvicorn is told the connection is lost, the parser generator is closed
(``generator.close()``): its frame ends, the cycle with it, and uvicorn's letting go of
the connection frees it all by reference counting. Nothing reads from the connection
after that: uvicorn feeds it no more bytes, and a send after the loss raises
``ClientDisconnected`` before it reaches the protocol.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["WebSocketProtocol"]


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol``, its parser closed when its connection is lost."""

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.conn.parser.close()
