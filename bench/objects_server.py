"""`meetwarden serve` with one more endpoint, for bench/room_memory.py (never used in production).

GET /bench/objects runs a full garbage collection and returns the objects the
collector tracks (containers: instances, dicts, lists...; not strings or
numbers), counted by type. Where RSS depends on how the allocator hands pages
back, these counts say exactly what the server still holds. They miss a
container that grows in place (a dict gaining keys is still one dict): with
MEETWARDEN_BENCH_TRACEMALLOC=1 in its environment the server traces its
allocations from the start, and GET /bench/allocations?mark=true remembers a
snapshot, after which GET /bench/allocations returns the lines whose allocated
memory grew most since (tracing makes the server slower and larger: a
diagnostic, not a measurement).

Everything else is the `meetwarden serve` command as it is, options included;
it runs the same way under a past commit's code (bench/baseline.py), whose
serve also builds its app with ``meetwarden.server.app.create_app`` when it
starts.

    python bench/objects_server.py serve --port 0 --data-dir /tmp/d --rtc-address 127.0.0.1
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections import Counter
from typing import Any

from fastapi import FastAPI

from meetwarden.server import app as app_module
from meetwarden.server.cli import main

__all__ = ["counted"]


def counted(create_app: Any) -> Any:
    """``create_app`` that adds GET /bench/objects to the app it makes."""

    def create(settings: Any) -> FastAPI:
        app: FastAPI = create_app(settings)

        @app.get("/bench/objects")
        async def objects() -> dict[str, Any]:  # on the event loop: nothing runs meanwhile
            gc.collect()
            counts = Counter(
                f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
            )
            return {"total": sum(counts.values()), "by_type": dict(counts)}

        marked: list[tracemalloc.Snapshot] = []

        @app.get("/bench/allocations")
        async def allocations(mark: bool = False) -> dict[str, Any]:
            if not tracemalloc.is_tracing():
                return {"error": "start the server with MEETWARDEN_BENCH_TRACEMALLOC=1"}
            gc.collect()
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            if mark or not marked:
                marked[:] = [snapshot]
                return {"grown": []}
            grown = snapshot.compare_to(marked[0], "lineno")[:12]
            return {
                "grown": [
                    {"where": str(s.traceback[0]), "bytes": s.size_diff, "blocks": s.count_diff}
                    for s in grown
                ]
            }

        return app

    return create


if __name__ == "__main__":
    if os.environ.get("MEETWARDEN_BENCH_TRACEMALLOC"):
        tracemalloc.start()
    app_module.create_app = counted(app_module.create_app)
    main()
