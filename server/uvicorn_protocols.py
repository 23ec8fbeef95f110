"""uvicorn's protocols, whose connections' objects go when the connection ends.

CPython frees an object when its last reference goes, except objects in a reference
cycle, which wait for the cycle collector (https://docs.python.org/3/library/gc.html).
Two cycles come with every WebSocket uvicorn serves, whatever the application does:

- Its HTTP protocol (``HttpToolsProtocol``) and the ``httptools`` parser it made, which
  keeps the protocol's callbacks (``on_url``, ``on_header``...). uvicorn lets go of the
  parser when an HTTP connection is lost (Kludex/uvicorn pull request 1604), but a
  connection upgraded to a WebSocket is handed to another protocol and never lost to
  this one: each join left the HTTP protocol, its parser, its flow control and the
  request's headers, about 23 objects, for the collector's young passes to find.
- The WebSocket protocol's ``conn``, the ``websockets`` library's sans-I/O protocol,
  which parses what arrives with a generator it keeps (``self.parser = self.parse()``,
  ``self.discard()`` once closing; websockets/protocol.py), and the generator's frame
  keeps the protocol (python-websockets/websockets issue 1749 reports cycles of the
  same kind in its own servers). A connection open for more than a few collector passes
  sits in the oldest generation, which only a full pass walks, and a serving process's
  full passes are rare (``collector.py``): after three rounds of the joins bench, 1,571
  closed connections' protocols were still in memory, and one full pass of 82 ms freed
  them with about 17,000 other objects.

Here each cycle is broken where its protocol is done with it: the HTTP protocol lets go
of its parser once it has handed the connection over (the parser raised ``upgrade`` and
is read no more), and the WebSocket protocol closes its parser generator once uvicorn is
told the connection is lost (uvicorn feeds it no more bytes then, and a send after the
loss raises ``ClientDisconnected`` before it reaches the parser).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["HttpProtocol", "WebSocketProtocol"]


class HttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol``, its parser let go once a WebSocket took the connection."""

    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        del self.parser  # the connection is the WebSocket protocol's from here on


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol``, its parser closed when its connection is lost."""

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.conn.parser.close()
