"""The final table of bench/cluster_load.py: each phase's figures side by side, and the ratio."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["derived", "table"]


def _per(total: float | None, count: int, scale: float = 1000.0) -> float | None:
    return None if total is None or count == 0 else round(total / count * scale, 3)


def derived(figures: dict[str, Any], planned: int, hold: float) -> dict[str, float | None]:
    """The table's rows of one phase (None: not measured)."""
    joined, held = figures["joined"], figures["held"]
    joining = figures.get("server_cpu_joining_seconds")
    holding = figures.get("server_cpu_holding_seconds")
    end, before = figures.get("server_rss_mib_end"), figures.get("server_rss_mib_before")
    return {
        "participants planned": planned,
        "participants held": held,
        "joins failed": planned - joined,
        "joins sent on (moved), %": round(100 * figures["moved"] / joined, 1) if joined else None,
        "joining took, s": figures["joining_seconds"],
        "join latency p50, ms": figures["join_ms"][50],
        "join latency p95, ms": figures["join_ms"][95],
        "join latency max, ms": figures["join_ms"]["max"],
        "enforcement (mute seen) p50, ms": figures["mute_ms"][50],
        "enforcement (mute seen) p95, ms": figures["mute_ms"][95],
        "enforcement (mute seen) p99, ms": figures["mute_ms"][99],
        "enforcement samples": figures["mute_samples"],
        "server CPU per join, ms": _per(joining, joined),
        "server CPU per participant-second held, ms": _per(holding, held, 1000.0 / hold),
        "server CPU per participant (join + hold), ms": _per(
            None if joining is None or holding is None else joining + holding, held
        ),
        "server RSS at the end, MiB": end,
        "server RSS per participant, KiB": _per(
            None if end is None or before is None else end - before, held, 1024.0
        ),
        "PostgreSQL + Redis CPU per participant, ms": _per(
            figures.get("services_cpu_seconds"), held
        ),
        "bots' CPU per participant, ms": _per(figures["bot_cpu_seconds"], held),
    } | _stop_rows(figures)


def _stop_rows(figures: dict[str, Any]) -> dict[str, float | None]:
    """With ``--stop-nodes``: the servers' stop and the way back (bench/cluster_stop.py)."""
    if "stopped_seconds" not in figures:
        return {}
    return {
        "servers stopped (SIGSTOP), s": figures["stopped_seconds"],
        "in when they stopped": figures["in_before_stop"],
        "fewest in afterwards": figures["fewest_in_after_stop"],
        "all of them in again after SIGCONT, s": figures["back_seconds"],
    }


def _cell(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def table(phases: dict[str, dict[str, float | None]]) -> str:
    """A Markdown table: one column per phase, and the ratio of the last to the first."""
    names = list(phases)
    header = ["", *names] + (["ratio"] if len(names) == 2 else [])
    lines = [header]
    for row in next(iter(phases.values())):
        values = [phases[name][row] for name in names]
        cells = [row, *(_cell(value) for value in values)]
        if len(names) == 2:
            first, last = values
            ratio = None if not first or last is None else round(last / first, 2)
            cells.append(_cell(ratio))
        lines.append(cells)
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    text = [
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        + " |"
        for line in lines
    ]
    text.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(text)
