"""A uvicorn server in the test's own process and event loop, for tests that look inside it
(its objects, its connections' writers) while real clients talk to it over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

__all__ = ["serving"]


@contextlib.asynccontextmanager
async def serving(config: uvicorn.Config, timeout: float = 30.0) -> AsyncIterator[int]:
    """Serves ``config`` (its port 0: any free one) until the block ends; yields the port."""
    listening = asyncio.Event()

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            listening.set()

    server = Server(config)
    serve = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(listening.wait(), timeout)
    except BaseException:
        server.should_exit = True
        await serve
        raise
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await serve
