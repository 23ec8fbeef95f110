"""What Prometheus reads at /metrics (prometheus_client's text format).

Counters are counted where things happen, through two hooks: ``count_decision``
(every decision a Room makes, in ``Room.decide_now``) and ``count_join_refusal``
(every join answered with a refusal, in ``runtime/joining.py``). Gauges and the
media plane's totals are read when Prometheus scrapes, so the hot paths only add
integers. Label values come from closed sets (event types, reason codes): no
meeting id or name ever becomes a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

__all__ = [
    "CONTENT_TYPE",
    "Live",
    "ServerMetrics",
    "count_decision",
    "count_join_refusal",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Process-wide, like the log: made once, registered in each server's registry.
_DECISIONS = Counter(
    "meetwarden_decisions",
    "Decisions of the policy engine, by event type, outcome and reason code.",
    ["event", "allowed", "reason"],
    registry=None,
)
_JOIN_REFUSALS = Counter(
    "meetwarden_join_refusals",
    "Joins answered with a refusal, by the reason code the client was given "
    "(join_failed covers unknown meetings and wrong credentials alike).",
    ["reason"],
    registry=None,
)


_DECISION_COUNTERS: dict[tuple[str, bool, str], Counter] = {}


def count_decision(event: str, allowed: bool, reason: str) -> None:
    # Each label set's child kept: ``labels`` builds and looks up its key under a lock,
    # once for every decision otherwise.
    key = (event, allowed, reason)
    counter = _DECISION_COUNTERS.get(key)
    if counter is None:
        counter = _DECISIONS.labels(event, "true" if allowed else "false", reason)
        _DECISION_COUNTERS[key] = counter
    counter.inc()


def count_join_refusal(reason: str) -> None:
    _JOIN_REFUSALS.labels(reason).inc()


@dataclass(frozen=True, slots=True)
class Live:
    """What is true now, read at each scrape."""

    meetings_open: int
    participants_connected: int
    forwarded_packets: int
    forwarded_bytes: int


class _LiveCollector(Collector):
    def __init__(self, read: Callable[[], Live]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        live = self._read()
        yield GaugeMetricFamily(
            "meetwarden_meetings_open",
            "Meetings loaded in this server (someone is in them, or was lately).",
            value=live.meetings_open,
        )
        yield GaugeMetricFamily(
            "meetwarden_participants_connected",
            "Participants with an open connection, waiting or admitted.",
            value=live.participants_connected,
        )
        yield CounterMetricFamily(
            "meetwarden_forwarded_packets",
            "RTP packets forwarded to subscribers.",
            value=live.forwarded_packets,
        )
        yield CounterMetricFamily(
            "meetwarden_forwarded_bytes",
            "Bytes of RTP forwarded to subscribers (headers and payload, before SRTP).",
            value=live.forwarded_bytes,
        )


class ServerMetrics:
    """One server's registry: the process's counters, its live figures, the process itself."""

    def __init__(self, read_live: Callable[[], Live]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_DECISIONS)
        self.registry.register(_JOIN_REFUSALS)
        self.registry.register(_LiveCollector(read_live))
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
