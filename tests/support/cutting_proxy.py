"""A Unix-socket proxy that can cut one client off from a server, for the tests of a
node that loses the cluster's Redis while the other nodes keep it.

It runs its own event loop in a thread, so that it serves while the test's loop is
blocked (starting a server process, say). ``cut()`` closes every proxied connection
and refuses new ones until ``mend()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

__all__ = ["CuttingProxy"]

CLOSE_SECONDS = 1.0


class CuttingProxy:
    def __init__(self, listen: Path, target: Path) -> None:
        self.listen, self.target = listen, target
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._transports: set[asyncio.BaseTransport] = set()
        self._cut = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CuttingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    @property
    def url(self) -> str:
        return f"unix://{self.listen}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_unix_server(self._protocol, path=str(self.listen))
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            # Cut (``stop``): every connection ends by itself, a task not started yet too
            # (cancelled before it runs, its accepted socket would be left open).
            # A connection accepted while stopping starts its task from a callback still
            # queued: run the queued callbacks, then wait, until no task is left (cut,
            # each ends at once).
            for _ in range(10):
                self._loop.run_until_complete(asyncio.sleep(0))
                pending = asyncio.all_tasks(self._loop)
                if not pending:
                    break
                self._loop.run_until_complete(asyncio.wait(pending, timeout=10))
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # Whatever was accepted or opened upstream and is still open (its task never
            # ran, or ended some way that left it) is closed here: a socket left open warns
            # when collected, in whichever test runs then. A transport already closing is
            # aborted too: close() waits to flush what its peer has not read (a node that
            # stopped reading), and only abort() drops that and closes the socket now
            # (asyncio's _force_close; a second call does nothing). Then its
            # connection_lost runs, which closes the socket.
            for transport in self._transports:
                transport.abort()
            for _ in range(3):
                self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    def _protocol(self) -> asyncio.StreamReaderProtocol:
        """As ``asyncio.start_unix_server`` makes them, and each transport kept track of."""
        proxy = self

        class Tracked(asyncio.StreamReaderProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                proxy._transports.add(transport)
                super().connection_made(transport)

        reader = asyncio.StreamReader(loop=self._loop)
        return Tracked(reader, self._serve, loop=self._loop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            await _closed(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(str(self.target))
        except OSError:
            await _closed(writer)
            return
        self._transports.add(upstream_writer.transport)
        if self._cut:  # cut while connecting
            await _closed(upstream_writer)
            await _closed(writer)
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
        finally:  # cancelled too (``stop``): a connection left open warns when collected
            self._writers.discard(writer)
            await _closed(writer)

    def cut(self) -> None:
        def cut_now() -> None:
            self._cut = True
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(cut_now)

    def mend(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "_cut", False)

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


async def _closed(writer: asyncio.StreamWriter) -> None:
    """Closes the connection and waits until its socket is (close() only schedules it: a
    loop stopped before that leaves the socket open). What a peer that stopped reading
    has not taken is dropped after a second (close() would wait for it to flush)."""
    writer.close()
    with contextlib.suppress(Exception):
        try:
            await asyncio.wait_for(asyncio.shield(writer.wait_closed()), CLOSE_SECONDS)
        except TimeoutError:
            writer.transport.abort()
            await writer.wait_closed()
