"""A uvicorn server in the test's own process and event loop, for tests that look inside it
(its objects, its connections' writers) while real clients talk to it over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from meetwarden.server.app import create_app
from meetwarden.server.auth import Passwords
from meetwarden.server.config import Settings
from meetwarden.server.hosting.service import Hosting
from meetwarden.server.serving import uvicorn_config
from meetwarden.server.store import Store

__all__ = ["serving", "serving_meetwarden"]


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


@contextlib.asynccontextmanager
async def serving_meetwarden(data_dir: Path) -> AsyncIterator[tuple[str, str]]:
    """meetwarden's application on loopback, served as ``meetwarden serve`` serves it:
    its address (``127.0.0.1:port``) and an operator's API key, made beforehand."""
    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=0)
    store = await Store.open(settings.resolved_database_url)
    try:
        key = (await Hosting(store, Passwords()).create_api_key("tests")).key
    finally:
        await store.close()
    async with serving(uvicorn_config(create_app(settings), settings)) as port:
        yield f"127.0.0.1:{port}", key
