"""A Room's timers: the engine asks for them (StartTimer), the Room's inbox gets their events.

Each timer keeps the plan it came from, so that the Room's places can be saved
with their running timers and a restarted server starts them again.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable

from meetwarden.policies.effects import StartTimer

__all__ = ["Timers"]

Key = tuple[str, str]


class Timers:
    def __init__(self, now: Callable[[], float], on_fire: Callable[[StartTimer], None]) -> None:
        self._now = now
        self._on_fire = on_fire
        self._running: dict[Key, tuple[asyncio.TimerHandle, StartTimer]] = {}
        self._context = contextvars.copy_context()
        """The context the Room was made in (its meeting named for the logs): every timer
        fires in it. ``call_later`` would otherwise keep a copy of the context of whichever
        socket's turn started the timer, for as long as the timer waits: a minute or two
        for each person whose connection dropped (``entry.reconnect_seconds``)."""

    def start(self, plan: StartTimer) -> None:
        """Start (or restart) the timer of this kind for this participant."""
        key = (plan.kind, plan.participant)
        self.cancel(*key)
        delay = max(0.0, plan.fire_at - self._now())
        loop = asyncio.get_running_loop()
        handle = loop.call_later(delay, self._fire, key, plan, context=self._context)
        self._running[key] = (handle, plan)

    def _fire(self, key: Key, plan: StartTimer) -> None:
        running = self._running.get(key)
        if running is not None and running[1] is plan:  # not restarted meanwhile
            del self._running[key]
        self._on_fire(plan)

    def cancel(self, kind: str, participant: str) -> None:
        running = self._running.pop((kind, participant), None)
        if running is not None:
            running[0].cancel()

    def cancel_of(self, participant: str, keep: tuple[str, ...] = ()) -> None:
        """Every timer of this participant, but those of the kinds in ``keep``."""
        for kind, pid in [k for k in self._running if k[1] == participant and k[0] not in keep]:
            self.cancel(kind, pid)

    def cancel_all(self) -> None:
        for handle, _ in self._running.values():
            handle.cancel()
        self._running.clear()

    def plans(self) -> list[StartTimer]:
        return [plan for _, plan in self._running.values()]
