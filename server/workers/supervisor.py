"""Starting, watching and stopping the workers of ``serve --workers N``.

The first worker starts alone: it migrates the database, makes the first-account
link and deletes what a stopped server left half done. The others start once it
is ready; then the front (front.py) takes connections. A worker that dies is
started again in its own place (its meetings are its place's, server/placement.py;
their people resume there as after a restart), after a pause that doubles while
it keeps dying young. SIGTERM or SIGINT stops taking connections and stops every
worker the way uvicorn stops (sockets closed with 1012, so clients resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from ..config import Settings
from ..door import socket_cap
from ..placement import WorkerPlace
from .address_book import AddressBook
from .budget_book import BudgetBook
from .front import Front
from .handoff import GIVE, READY, TAKE, Channel, channel_pair
from .worker import run_worker

__all__ = ["WorkerSlot", "run_workers"]

log = logging.getLogger("meetwarden.workers")
STOP_SECONDS = 30.0
"""How long workers get to stop before they are killed."""
YOUNG_SECONDS = 10.0
"""A worker that dies younger than this is restarted after a pause (doubling, at most MAX)."""
MAX_PAUSE_SECONDS = 30.0


class WorkerSlot:
    """One worker's place: its process (restarted as needed) and its channel."""

    def __init__(
        self,
        place: WorkerPlace,
        settings: Settings,
        port: int,
        book: AddressBook,
        budgets: BudgetBook,
    ) -> None:
        self.place = place
        self._book = book
        self._budgets = budgets
        self._settings = settings
        self._port = port
        self.process: BaseProcess | None = None
        self.channel: Channel | None = None
        self._ready = asyncio.Event()
        self.exited = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self.started_at = 0.0

    async def ready_channel(self) -> Channel:
        await self._ready.wait()
        assert self.channel is not None
        return self.channel

    def start(self, first: bool) -> None:
        front_end, worker_end = channel_pair()
        process = multiprocessing.get_context("spawn").Process(
            target=run_worker,
            args=(self._settings, self.place, first, worker_end, self._port),
            name=f"meetwarden-worker-{self.place.index}",
        )
        process.start()
        worker_end.close()
        self.process, self.started_at = process, self._loop.time()
        self._ready.clear()
        self.exited.clear()
        self.channel = Channel(front_end)
        self.channel.listen(self._message, self._closed)
        self._loop.add_reader(process.sentinel, self._ended)

    async def started(self) -> bool:
        """Whether the worker got ready (False: it exited first)."""
        ready = asyncio.ensure_future(self._ready.wait())
        exited = asyncio.ensure_future(self.exited.wait())
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        exited.cancel()
        return self._ready.is_set() and not self.exited.is_set()

    def _message(self, kind: bytes, descriptor: int | None) -> None:
        if descriptor is not None:
            os.close(descriptor)
        if kind == READY:
            self._ready.set()
        elif kind[:1] in (TAKE, GIVE):
            self._budgets.message(self.place.index, kind)
        else:
            self._book.message(self.place.index, kind)

    def _closed(self) -> None:
        self._ready.clear()  # it is stopping: new connections wait for the next one

    def _ended(self) -> None:
        assert self.process is not None
        self._loop.remove_reader(self.process.sentinel)
        self.process.join(0)
        self._ready.clear()
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        self._book.forget(self.place.index)  # its sockets ended with it
        self.exited.set()

    def terminate(self) -> None:
        if self.process is not None and self.process.exitcode is None:
            self.process.terminate()

    def kill(self) -> None:
        if self.process is not None and self.process.exitcode is None:
            self.process.kill()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def run_workers(settings: Settings, count: int) -> int:
    """Serves with ``count`` workers until SIGTERM or SIGINT; the process's exit code."""
    try:
        listener = _listen(settings.host, settings.port)
    except OSError as error:
        log.error("cannot listen on %s port %d: %s", settings.host, settings.port, error)
        return 3
    factory: Callable[[], asyncio.AbstractEventLoop]
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_supervise(settings, count, listener))


def _pass_on(slots: list[WorkerSlot], number: int) -> None:
    for slot in slots:
        process = slot.process
        if process is not None and process.pid is not None and process.is_alive():
            os.kill(process.pid, number)


async def _supervise(settings: Settings, count: int, listener: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    port = listener.getsockname()[1]
    slots: list[WorkerSlot] = []

    def post(worker: int, message: bytes) -> None:
        channel = slots[worker].channel
        if channel is not None:
            channel.post(message)

    # One address's participant sockets, counted across the workers (address_book.py).
    book = AddressBook(socket_cap(), post)
    # Guessing budgets (join guesses per address, failed host-API lookups per client),
    # counted across the workers (budget_book.py).
    budgets = BudgetBook(post)
    slots.extend(
        WorkerSlot(WorkerPlace(index, count), settings, port, book, budgets)
        for index in range(count)
    )
    # Each worker logs its media connections on SIGUSR1 (app.DESCRIBE_SIGNAL): passed on.
    loop.add_signal_handler(signal.SIGUSR1, _pass_on, slots, signal.SIGUSR1)
    slots[0].start(first=True)
    started = await slots[0].started()
    if started:
        for slot in slots[1:]:
            slot.start(first=False)
        started = all(await asyncio.gather(*(slot.started() for slot in slots[1:])))
    if not started:
        log.error("a worker could not start (its lines above say why)")
        await _stop_all(slots)
        listener.close()
        return 3
    front = Front(listener, slots)
    front.start()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info(
        "meetwarden running on http://%s:%d with %d workers (Press CTRL+C to quit)",
        host,
        port,
        count,
    )
    watchers = [asyncio.create_task(_keep_running(slot, stop)) for slot in slots]
    await stop.wait()
    front.stop()
    for watcher in watchers:
        watcher.cancel()
    await front.drain()
    await _stop_all(slots)
    return 0


async def _keep_running(slot: WorkerSlot, stop: asyncio.Event) -> None:
    """Starts the worker again each time it dies, until the server stops."""
    loop = asyncio.get_running_loop()
    pause = 0.5
    while not stop.is_set():
        await slot.exited.wait()
        if stop.is_set():
            return
        assert slot.process is not None
        lived = loop.time() - slot.started_at
        pause = pause * 2 if lived < YOUNG_SECONDS else 0.5
        log.warning(
            "worker %d stopped (exit code %s); starting it again",
            slot.place.index,
            slot.process.exitcode,
        )
        if lived < YOUNG_SECONDS:  # dying young: do not spin
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(pause, MAX_PAUSE_SECONDS))
            if stop.is_set():
                return
        slot.start(first=False)


async def _stop_all(slots: list[WorkerSlot]) -> None:
    for slot in slots:
        slot.terminate()
    waiting = [slot.exited.wait() for slot in slots if slot.process is not None]
    try:
        await asyncio.wait_for(asyncio.gather(*waiting), STOP_SECONDS)
    except TimeoutError:
        for slot in slots:
            slot.kill()
        await asyncio.gather(*(slot.exited.wait() for slot in slots if slot.process))
