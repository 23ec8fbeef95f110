"""A Unix-socket proxy that can cut one client off from a server, for the tests of a
node that loses the cluster's Redis while the other nodes keep it.

Plain blocking sockets and threads: one thread accepts, and each connection is two
pumps, one per direction, whose sockets the connection's own thread closes when both
pumps end. ``cut()`` shuts every proxied connection down (each side reads the end of
its stream) and refuses new ones until ``mend()``; ``stop()`` also stops accepting.
``swallow()`` reads what the server sends and drops it, until the cut that follows:
what the server counts as delivered (a pub/sub message, say) the client never reads.
Every socket is closed by the thread that owns it, in a ``finally``: none is left for
the garbage collector to find open (an asyncio version left one, now and then, whose
ResourceWarning surfaced in a later test).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["CuttingProxy"]

JOIN_SECONDS = 10.0
CHUNK = 65536


class CuttingProxy:
    def __init__(self, listen: Path, target: Path) -> None:
        self.listen, self.target = listen, target
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._swallowing = False
        self.swallowed = bytearray()
        """What the server sent while swallowing (for a test to see what was lost)."""
        self._stopping = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._threads: list[threading.Thread] = []

    def start(self) -> CuttingProxy:
        self._listener.bind(str(self.listen))
        self._listener.listen(64)
        self._spawn(self._accept)
        return self

    @property
    def url(self) -> str:
        return f"unix://{self.listen}"

    def swallow(self) -> None:
        """From now until ``cut()``, what the server sends is dropped, not passed on."""
        with self._lock:
            self.swallowed = bytearray()
            self._swallowing = True

    def swallowed_data(self) -> bytes:
        with self._lock:
            return bytes(self.swallowed)

    def cut(self) -> None:
        """Ends every proxied connection now and refuses new ones until ``mend()``."""
        with self._lock:
            self._cut = True
            self._swallowing = False
            for sock in self._open:
                _shut(sock)

    def mend(self) -> None:
        with self._lock:
            self._cut = False

    def stop(self) -> None:
        with self._lock:
            self._stopping = self._cut = True
            for sock in self._open:
                _shut(sock)
        _shut(self._listener)  # a blocked accept() returns (EINVAL on Linux)
        for thread in list(self._threads):
            thread.join(JOIN_SECONDS)
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.listen.unlink()

    # ------------------------------------------------------------------ threads

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            with self._lock:
                stopping, refused = self._stopping, self._cut
                if not refused:
                    self._open.add(client)
            if refused:
                client.close()
                if stopping:
                    return
                continue
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                if self._cut:
                    return
                self._open.add(upstream)
            try:
                upstream.connect(str(self.target))
            except OSError:
                return
            back = threading.Thread(target=_pump, args=(upstream, client, self._kept), daemon=True)
            back.start()
            _pump(client, upstream)
            back.join()
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            client.close()
            upstream.close()

    def _kept(self, data: bytes) -> bool:
        """Whether the server's ``data`` was swallowed (kept here, not passed on)."""
        with self._lock:
            if self._swallowing:
                self.swallowed += data
            return self._swallowing


def _pump(
    source: socket.socket, sink: socket.socket, dropped: Callable[[bytes], bool] | None = None
) -> None:
    """Copies ``source`` to ``sink`` until either ends, but what ``dropped`` takes; then
    ends both, so that the other direction's pump ends too."""
    try:
        while data := source.recv(CHUNK):
            if dropped is None or not dropped(data):
                sink.sendall(data)
    except OSError:
        pass
    finally:
        _shut(source)
        _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
