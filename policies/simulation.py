"""A meeting without a server: events in, decisions out, timers fired on time.

``meetwarden policy simulate``, ``meetwarden policy test`` and the property
tests drive the engine through this, exactly as the server's runtime does:
before an event at time t, every timer due by t fires first, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .apply import apply
from .decision import Decision
from .effects import CancelTimer, Dismiss, StartTimer
from .engine import decide
from .events import Event
from .model import Policy
from .state import MeetingState
from .timers import timer_event

__all__ = ["Simulation", "Step"]


@dataclass(frozen=True, slots=True)
class Step:
    event: Event
    decision: Decision
    by_timer: bool


@dataclass
class Simulation:
    policy: Policy
    state: MeetingState = field(default_factory=MeetingState)
    now: float = 0.0
    timers: dict[tuple[str, str], StartTimer] = field(default_factory=dict)

    @classmethod
    def start(cls, policy: Policy) -> Simulation:
        return cls(policy, MeetingState.initial(policy))

    def _decide(self, event: Event, by_timer: bool) -> Step:
        decision = decide(self.policy, self.state, event)
        self.policy, self.state = apply(self.policy, self.state, decision, at=event.at)
        for effect in decision.effects:
            if isinstance(effect, StartTimer):
                self.timers[(effect.kind, effect.participant)] = effect
            elif isinstance(effect, CancelTimer):
                self.timers.pop((effect.kind, effect.participant), None)
            elif isinstance(effect, Dismiss):
                for key in [k for k in self.timers if k[1] == effect.participant]:
                    del self.timers[key]
        return Step(event, decision, by_timer)

    def fire_next(self, to: float) -> Step | None:
        """Fires the earliest timer due by ``to``, if one is; the clock moves to it."""
        due = [t for t in self.timers.values() if t.fire_at <= to]
        if not due:
            return None
        timer = min(due, key=lambda t: (t.fire_at, t.kind, t.participant))
        del self.timers[(timer.kind, timer.participant)]
        self.now = max(self.now, timer.fire_at)
        return self._decide(timer_event(timer, self.now), by_timer=True)

    def advance(self, to: float) -> list[Step]:
        """Fires every timer due by ``to``, earliest first; the clock ends at ``to``."""
        steps: list[Step] = []
        while (step := self.fire_next(to)) is not None:
            steps.append(step)
        self.now = max(self.now, to)
        return steps

    def step(self, event: Event) -> list[Step]:
        """Fires due timers, then decides the event; returns every step taken."""
        steps = self.advance(event.at)
        steps.append(self._decide(event, by_timer=False))
        return steps
