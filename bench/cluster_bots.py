"""The bots of bench/cluster_load.py: one process's share of the meetings, SDK clients.

Each bot is a ``MeetingClient`` of the Python SDK (it follows ``moved`` to the
meeting's node by itself). A process is given whole meetings (a host and its
guests live in the same event loop) and the moment each of their joins starts,
on the machine's monotonic clock (CLOCK_MONOTONIC is one clock for every
process), so that several processes together keep the run's join rate.

What a process reports to the parent on its queue, as it happens:
``("joined",)``, ``("failed", reason)``, ``("ready",)`` once all its joins
ended, ``("muted", seconds)`` for each enforcement sample, and last
``("result", figures)``. The parent sets ``holding`` when every process is
ready (the host mute cycles start) and ``stop`` when the hold is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from meetwarden import protocol as wire
from meetwarden.client_sdk import (
    Admitted,
    MeetingClient,
    MeetwardenError,
    Muted,
    WaitingListChanged,
)

__all__ = ["HOST_PACE", "MeetingPlan", "Signals", "run_bots"]

HOST_PACE = 1 / 8
"""Seconds between two requests of one host: under a socket's 10 messages a second."""
JOIN_TIMEOUT = 60.0
"""Seconds a join may take, connect to admitted, before it counts as failed."""
MUTE_TIMEOUT = 15.0
READMIT_AFTER = 5.0
"""Seconds after which a host lets in again someone still in its waiting list."""
FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski", "Haddad", "Lund"]


@dataclass
class MeetingPlan:
    """One meeting's joins: the link each participant uses (0 is the host) and when."""

    meeting_id: str
    host_token: str
    links: list[str]
    starts: list[float]
    """Seconds after the run's beginning at which each participant's join begins."""


@dataclass
class Signals:
    """Between the parent and its bot processes: ``go`` once ``begin`` (a monotonic time)
    is set; ``holding`` once every process has done its joins; ``stop`` at the hold's end."""

    begin: Any
    go: Event
    holding: Event
    stop: Event


class Bot(MeetingClient):
    """A MeetingClient that notes when its admission and a mute reached it (its reader
    takes each message as it arrives: the time is the arrival's, not a waiter's)."""

    admitted_at: float | None = None
    muted_at: float | None = None
    on_in: Callable[[bool], None] | None = None
    """Told each time the bot goes in (admitted) or out, as its status changes."""
    _status = "connecting"

    @property  # type: ignore[override]
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        was_in, self._status = self._status == "admitted", value
        if (value == "admitted") != was_in and self.on_in is not None:
            self.on_in(value == "admitted")

    def _take(self, message: Any) -> None:
        super()._take(message)
        if isinstance(message, wire.Admitted) and self.admitted_at is None:
            self.admitted_at = time.monotonic()
        elif isinstance(message, wire.You) and message.you.muted and self.muted_at is None:
            self.muted_at = time.monotonic()


@dataclass
class Meeting:
    plan: MeetingPlan
    host: Bot | None = None
    guests: list[Bot] = field(default_factory=list)
    host_in: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the host's join has ended (``host`` is None if it failed)."""
    last_request: float = 0.0

    async def paced(self) -> None:
        """Waits until the host may send its next request (HOST_PACE)."""
        pause = self.last_request + HOST_PACE - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)  # a host's own pace, under the socket's rate limit
        self.last_request = time.monotonic()


@dataclass
class Figures:
    join_seconds: list[float] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    mutes: list[float] = field(default_factory=list)
    mute_failures: Counter[str] = field(default_factory=Counter)
    admit_failures: Counter[str] = field(default_factory=Counter)


def _why(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or getattr(error, "code", None)
    return f"{type(error).__name__}: {reason}" if reason else type(error).__name__


class Process:
    """The meetings of one bot process, their joins, admissions and mute cycles."""

    def __init__(self, plans: list[MeetingPlan], settings: dict[str, Any], queue: Queue[Any]):
        self.begin = 0.0
        self.meetings = [Meeting(plan) for plan in plans]
        self.settings = settings
        self.queue = queue
        self.figures = Figures()

    async def join(self, meeting: Meeting, number: int) -> None:
        plan = meeting.plan
        start = self.begin + plan.starts[number]
        await asyncio.sleep(max(0.0, start - time.monotonic()))  # the run's join rate
        name = f"{FIRST[number % len(FIRST)]} {LAST[(number // len(FIRST)) % len(LAST)]}"
        started = time.monotonic()
        try:
            async with asyncio.timeout(JOIN_TIMEOUT):
                bot = await Bot.connect(
                    plan.links[number],
                    name=name,
                    host_token=plan.host_token if number == 0 else None,
                    timeout=JOIN_TIMEOUT,
                )
                if number:
                    meeting.guests.append(bot)
                await bot.wait_admitted(timeout=JOIN_TIMEOUT)
                if not number:
                    meeting.host = bot
        except (MeetwardenError, TimeoutError, OSError) as error:
            self.figures.failed[_why(error)] += 1
            self.queue.put(("failed", _why(error)))
            return
        finally:
            if not number:
                meeting.host_in.set()
        assert bot.admitted_at is not None
        self.figures.join_seconds.append(bot.admitted_at - started)
        self.figures.moved += bot.server != bot.entry_server
        self.queue.put(("joined",))

    async def admit(self, meeting: Meeting) -> None:
        """The host lets in whoever waits (all at once, or one by one), until the hold ends:
        a guest who resumes into the waiting room after a drop is let in again."""
        asked: dict[str, float] = {}  # participant -> when the host let them in
        await meeting.host_in.wait()
        host = meeting.host
        if host is None:
            return  # the host's join failed: nobody admits this meeting's guests
        while True:
            with contextlib.suppress(TimeoutError):
                await host.wait_for(WaitingListChanged, timeout=1.0)
            if host.status != "admitted":
                # The host is resuming after a drop (the SDK's own task): its admission
                # wakes this loop again.
                with contextlib.suppress(TimeoutError):
                    await host.wait_for(Admitted, timeout=5.0)
                continue
            # Someone still listed long after being let in is asked for again (they may
            # have dropped and come back to the waiting room).
            now = time.monotonic()
            waiting = [w.id for w in host.waiting if now - asked.get(w.id, -60.0) > READMIT_AFTER]
            if not waiting:
                continue
            try:
                if self.settings["admit"] == "all":
                    await meeting.paced()
                    await host.admit_all()
                    asked.update(dict.fromkeys(waiting, now))
                else:
                    for participant in waiting:
                        await meeting.paced()
                        await host.admit(participant)
                        asked[participant] = now
            except MeetwardenError as error:
                self.figures.admit_failures[_why(error)] += 1

    async def mute_cycles(self, meeting: Meeting, stop: Event) -> None:
        """The host mutes one guest after another; each sample is the time from the host
        sending ``mute`` to the guest's SDK reading that it is muted. The guest unmutes
        itself again (the policy lets it)."""
        host = meeting.host
        guests = [g for g in meeting.guests if g.status == "admitted" and g.participant_id]
        if host is None or host.status != "admitted" or not guests:
            return
        every = self.settings["mute_every"]
        await asyncio.sleep(every * (hash(meeting.plan.meeting_id) % 1000) / 1000)  # spread
        for guest in itertools.cycle(guests):
            if stop.is_set():
                return
            # A guest who is not in now (resuming after a drop, say) is skipped, but the
            # turn still takes its pause: a cycle with nobody in must not spin without
            # awaiting, which would hold up every bot of this process.
            if guest.status == "admitted" and guest.participant_id is not None:
                try:
                    guest.muted_at = None
                    await meeting.paced()
                    sent = time.monotonic()
                    await host.mute(guest.participant_id)
                    await guest.wait_for(Muted, timeout=MUTE_TIMEOUT)
                    assert guest.muted_at is not None
                    self.figures.mutes.append(guest.muted_at - sent)
                    self.queue.put(("muted", guest.muted_at - sent))
                    await guest.request_unmute()
                except MeetwardenError as error:
                    self.figures.mute_failures[_why(error)] += 1
            await asyncio.sleep(every)  # the pace of one meeting's host actions

    def report_in(self, bots: list[Bot]) -> None:
        """From now on, how many of this process's bots are in (admitted), with the time,
        each time that changes: the parent times the way back after ``--stop-nodes``."""
        count = sum(bot.status == "admitted" for bot in bots)
        self.queue.put(("in", os.getpid(), count, time.monotonic()))

        def changed(now_in: bool) -> None:
            nonlocal count
            count += 1 if now_in else -1
            self.queue.put(("in", os.getpid(), count, time.monotonic()))

        for bot in bots:
            bot.on_in = changed

    async def run(self, signals: Signals) -> dict[str, Any]:
        holding, stop = signals.holding, signals.stop
        self.queue.put(("up",))
        await asyncio.to_thread(signals.go.wait)  # a process's event: waited in a thread
        self.begin = signals.begin.value
        cpu_before = _own_cpu()
        joins = [
            asyncio.create_task(self.join(meeting, number))
            for meeting in self.meetings
            for number in range(len(meeting.plan.links))
        ]
        admitting = [asyncio.create_task(self.admit(m)) for m in self.meetings]
        await asyncio.gather(*joins)
        self.queue.put(("ready",))
        await asyncio.to_thread(holding.wait)
        cycles = [asyncio.create_task(self.mute_cycles(m, stop)) for m in self.meetings]
        bots = [b for m in self.meetings for b in (m.host, *m.guests) if b is not None]
        self.report_in(bots)
        await asyncio.to_thread(stop.wait)
        held = sum(bot.status == "admitted" for bot in bots)
        closed = Counter(f"{b.status} {b.close_code}" for b in bots if b.status != "admitted")
        cpu = _own_cpu() - cpu_before
        for task in (*cycles, *admitting):
            task.cancel()
        await asyncio.gather(*cycles, *admitting, return_exceptions=True)
        await asyncio.gather(*(bot.close() for bot in bots), return_exceptions=True)
        f = self.figures
        return {
            "joined": len(f.join_seconds),
            "held": held,
            "lost": dict(closed),
            "failed": dict(f.failed),
            "moved": f.moved,
            "join_seconds": f.join_seconds,
            "mute_seconds": f.mutes,
            "mute_failures": dict(f.mute_failures),
            "admit_failures": dict(f.admit_failures),
            "bot_cpu_seconds": cpu,
        }


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_bots(
    plans: list[MeetingPlan],
    settings: dict[str, Any],
    queue: Queue[Any],
    signals: Signals,
) -> None:
    """A bot process's entry point: joins, holds, reports ``("result", figures)``."""
    logging.basicConfig(
        level=logging.WARNING, format="bot %(process)d %(asctime)s %(name)s %(message)s"
    )
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    figures = runner(Process(plans, settings, queue).run(signals))
    queue.put(("result", figures))
