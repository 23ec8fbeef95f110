"""Run as ``python -m support.telemetry_probe DATA_DIR`` (tests/ on the path): serves a
bare FastAPI app and then meetwarden's, in a process whose OpenTelemetry tracer provider
is the SDK's, sends each a request whose path holds a meeting id (and meetwarden a
join), and prints the spans each made as JSON: ``{"bare": [...], "meetwarden": [...]}``.

A process has one tracer provider for good (``trace.set_tracer_provider``), hence a
process of its own: the tests that run after it see none.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .inprocess import serving, serving_meetwarden

OPEN = {"entry": {"waiting_room": {"enabled": False}}}
BARE_ID = "Kf9iRNRwq3bXv7tLmZ2pYc"


def _spans(exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    found = [
        {"name": span.name, "attributes": {k: str(v) for k, v in (span.attributes or {}).items()}}
        for span in exporter.get_finished_spans()
    ]
    exporter.clear()
    return found


async def _bare(exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    """What a FastAPI app with FastAPI's defaults records: the control."""
    app = FastAPI()

    @app.get("/m/{meeting_id}")
    async def page(meeting_id: str) -> dict[str, str]:
        return {"meeting": meeting_id}

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    async with (
        serving(config) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        (await http.get(f"/m/{BARE_ID}")).raise_for_status()
    return _spans(exporter)


async def _meetwarden(exporter: InMemorySpanExporter, data_dir: Path) -> tuple[str, list[Any]]:
    async with serving_meetwarden(data_dir) as (address, key):
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            answer = await http.post(
                "/api/meetings", json={"policy": OPEN}, headers={"Authorization": f"Bearer {key}"}
            )
            answer.raise_for_status()
            created = answer.json()
            meeting_id = created["meeting_id"]
            (await http.get(f"/m/{meeting_id}")).raise_for_status()
        url = f"ws://{address}/ws/meetings/{meeting_id}"
        async with websockets.connect(url, compression=None) as socket:
            join = {"type": "join", "name": "Ana Silva", "host_token": created["host_token"]}
            await socket.send(json.dumps(join))
            while json.loads(await socket.recv())["type"] != "admitted":
                pass
    return meeting_id, _spans(exporter)


async def main(data_dir: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    bare = await _bare(exporter)
    meeting_id, spans = await _meetwarden(exporter, data_dir)
    seen = {"bare_id": BARE_ID, "bare": bare, "meeting_id": meeting_id, "meetwarden": spans}
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
