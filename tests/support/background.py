"""An asyncio event loop in a thread of its own, for tests that are not async themselves.

Hypothesis' state machines call their rules synchronously; clients and their
media live on this loop, which keeps running between the calls, so media keeps
flowing while hypothesis decides the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from meetwarden.client_sdk.media import loopback_only

__all__ = ["BackgroundLoop"]

T = TypeVar("T")


class BackgroundLoop:
    """An event loop in its own thread, so media keeps flowing between hypothesis' steps."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 180.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def __enter__(self) -> BackgroundLoop:
        self.thread.start()
        self.run(self._loopback())
        return self

    @staticmethod
    async def _loopback() -> None:
        loopback_only()

    @staticmethod
    async def _drain() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(Exception):
            self.run(self._drain(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
