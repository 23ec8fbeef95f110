"""What the meeting's node (A) sends its edge viewers, one bus message per edge node at a time.

A decision often tells many people the same thing (a roster change, who is
speaking): the Room writes the same text in many sessions' outboxes in one turn.
Sent one Redis PUBLISH per viewer, that costs A a message per edge viewer; here
every session's outbox empties into one queue per edge node, and each turn of
that node's sender takes what is queued (up to ``BATCH`` items) into one
``edge_batch``: each distinct text once, and per session, in order, the texts it
gets or the close of its session. Order per session is kept (one queue, read in
order); the bus keeps the order of one sender's messages (server/cluster/bus.py).
It delivers at most once: each batch is numbered, and the edge node that finds
one missing (Redis dropped its subscription a moment) tells those viewers to
reconnect, which gives them A's state afresh (``serving.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .hub import Bus

__all__ = ["BATCH", "NodeLinks"]

log = logging.getLogger("meetwarden.cascade")
BATCH = 512
"""Items (a text for a session, or a session's close) in one bus message at most."""

_Item = tuple[str, str | None, tuple[int, str] | None]
"""(session id, a text for it, or None and the close (code, reason))."""


class NodeLinks:
    """One ordered sender per edge node; ``on_lost(node)`` when one did not hear."""

    def __init__(self, bus: Bus, on_lost: Callable[[str], None]) -> None:
        self._bus = bus
        self._on_lost = on_lost
        self._queues: dict[str, asyncio.Queue[_Item]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sent: dict[str, int] = {}
        """Batches sent to each node: each carries its number (``seq``), so that the node
        can tell one it missed (the bus delivers at most once) and reconnect its viewers."""

    def _queue(self, node_id: str) -> asyncio.Queue[_Item]:
        queue = self._queues.get(node_id)
        if queue is None:
            queue = self._queues[node_id] = asyncio.Queue()
            self._tasks[node_id] = asyncio.create_task(
                self._send(node_id, queue), name=f"edge link {node_id}"
            )
        return queue

    def text(self, node_id: str, session_id: str, text: str) -> None:
        self._queue(node_id).put_nowait((session_id, text, None))

    def close(self, node_id: str, session_id: str, code: int, reason: str) -> None:
        self._queue(node_id).put_nowait((session_id, None, (code, reason)))

    async def _send(self, node_id: str, queue: asyncio.Queue[_Item]) -> None:
        while True:
            items = [await queue.get()]
            while not queue.empty() and len(items) < BATCH:
                items.append(queue.get_nowait())
            number = self._sent[node_id] = self._sent.get(node_id, 0) + 1
            heard = await self._bus.to_node(node_id, {**batch(items), "seq": number}, None)
            for _ in items:
                queue.task_done()
            if not heard:
                log.warning("cascade: %s did not hear its viewers' messages", node_id)
                self._on_lost(node_id)

    async def stop(self) -> None:
        """After the last close was queued: what is queued is sent, then the senders end."""
        for queue in self._queues.values():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), 5)
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task


def batch(items: list[_Item]) -> dict[str, Any]:
    """``{"op": "edge_batch", "texts": [...], "items": [{"s": id, "t": [i, ...]} or
    {"s": id, "close": [code, reason]}, ...]}``: each text once, items in order."""
    texts: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for session_id, text, close in items:
        if text is not None:
            index = texts.setdefault(text, len(texts))
            last = out[-1] if out else None
            if last is not None and last["s"] == session_id and "t" in last:
                last["t"].append(index)
            else:
                out.append({"s": session_id, "t": [index]})
        elif close is not None:
            out.append({"s": session_id, "close": [close[0], close[1]]})
    return {"op": "edge_batch", "texts": list(texts), "items": out}
