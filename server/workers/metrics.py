"""/metrics for every worker of ``serve --workers N``, whichever one answers the scrape.

Each worker counts its own meetings. The front process hands ``/metrics`` to any
worker (it names no meeting), so that worker asks its siblings for their figures
and answers with everyone's, each sample labelled ``worker="0"`` .. ``"N-1"``
(Prometheus sums them with ``sum without (worker)``), as a node of several
processes has to: prometheus_client's own multiprocess mode cannot serve the
gauges read live at each scrape (``server/metrics.py``), nor the process
collector (https://prometheus.github.io/client_python/multiprocess/).

Each worker answers its siblings on a Unix socket in the abstract namespace
(unix(7)), named after the front process and the worker's index; only a process
of the same user is answered (SO_PEERCRED). A sibling that does not answer
within ``ASK_SECONDS`` (restarting, say) is left out, and counted in
``meetwarden_workers_unanswered``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from ..placement import WorkerPlace

__all__ = ["ASK_SECONDS", "WorkerMetrics"]

log = logging.getLogger("meetwarden.workers")

ASK_SECONDS = 2.0
_MAX_EXPOSITION = 8 * 1024 * 1024
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid (unix(7) SO_PEERCRED)


def _address(front_pid: int, index: int) -> str:
    return f"\0meetwarden-{front_pid}-metrics-{index}"


class WorkerMetrics:
    """One worker's side: answers its siblings, and gathers theirs for a scrape."""

    def __init__(self, place: WorkerPlace, own: Callable[[], bytes]) -> None:
        self.place = place
        self._own = own
        self._front = os.getppid()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Answer the siblings. A worker that cannot (its name still held by the worker it
        replaces, say) serves all the same: its figures are missing from their scrapes."""
        # Bound here: uvloop takes no abstract name as a path (EINVAL), only a socket.
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listening.bind(_address(self._front, self.place.index))
            listening.listen(16)
            listening.setblocking(False)
        except OSError as error:
            listening.close()
            log.warning("worker %d cannot answer for /metrics: %s", self.place.index, error)
            return
        self._server = await asyncio.start_unix_server(self._answer, sock=listening)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            sock = writer.get_extra_info("socket")
            credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
            if _CREDENTIALS.unpack(credentials)[1] == os.getuid():
                writer.write(self._own())
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _ask(self, index: int) -> bytes | None:
        connecting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connecting.setblocking(False)
        try:
            async with asyncio.timeout(ASK_SECONDS):
                loop = asyncio.get_running_loop()
                await loop.sock_connect(connecting, _address(self._front, index))
                reader, writer = await asyncio.open_unix_connection(sock=connecting)
                try:
                    return await reader.read(_MAX_EXPOSITION)
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except (OSError, TimeoutError):
            connecting.close()
            return None

    async def exposition(self) -> bytes:
        """Every worker's figures, labelled by worker, in the text format."""
        others = [index for index in range(self.place.count) if index != self.place.index]
        answers = await asyncio.gather(*(self._ask(index) for index in others))
        texts = {self.place.index: self._own()}
        texts.update({i: text for i, text in zip(others, answers, strict=True) if text})
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Gathered(texts, unanswered=len(others) + 1 - len(texts)))
        return generate_latest(registry)


class _Gathered(Collector):
    """The workers' expositions as one: each family once, its samples from every worker."""

    def __init__(self, texts: dict[int, bytes], unanswered: int) -> None:
        self._texts = texts
        self._unanswered = unanswered

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for index, text in sorted(self._texts.items()):
            for family in text_string_to_metric_families(text.decode()):
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    labels = {**sample.labels, "worker": str(index)}
                    merged.samples.append(sample._replace(labels=labels))
        yield from families.values()
        yield GaugeMetricFamily(
            "meetwarden_workers_unanswered",
            "Workers whose figures this scrape could not gather (restarting, say).",
            value=self._unanswered,
        )
