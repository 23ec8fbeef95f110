"""Messages between nodes: to the node that holds a meeting, or to every node.

Carried by Redis pub/sub (https://redis.io/docs/latest/develop/interact/pubsub/),
as LiveKit's nodes carry theirs (pkg/routing: one channel per node): each node
listens on its inbox channel and on one broadcast channel.

Delivery is **at most once**: a message reaches the nodes that are subscribed
when Redis receives it, once each, and is then gone. A node that is down,
restarting or briefly disconnected from Redis misses what was sent meanwhile,
and nothing is retried. Pub/sub and not streams, because what crosses nodes is
for the live meeting (a host action, a gate change): a node that was away
rebuilds its meetings from the store, and a replayed old command (a gate
opened again after it was closed) would be worse than a lost one. A sender
that must know learns it from ``send_*``'s return (how many nodes received it,
or None for a meeting with no live holder) and can ask again.

Order is **per sender**: the messages one ``MessageBus`` sends reach each
receiver in the order its ``send_*`` calls were made. The bus publishes one
message at a time (a FIFO lock; each PUBLISH is acknowledged before the next
is sent), Redis delivers to a subscriber in the order it executes the PUBLISHes,
and the listener hands messages to the handler one at a time. Messages from
different senders have no order among them.

A payload that is not a message (``envelope``) is logged and dropped; a handler
that raises is logged; neither stops the listener. A handler that is slow makes
messages wait in Redis, whose pub/sub output buffer limit disconnects a
listener that falls far behind (``client-output-buffer-limit``): keep it quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from .envelope import BadMessageError, Message, decode, encode
from .keys import Keys
from .placement import Placement

__all__ = ["Handler", "Message", "MessageBus"]

logger = logging.getLogger("meetwarden.cluster")

Handler = Callable[[Message], Awaitable[None]]

_POLL = 1.0  # seconds one read for a message waits before the loop looks again
_RETRY = (0.1, 0.2, 0.5, 1.0, 2.0)  # pauses before reading again after Redis went away


class MessageBus:
    def __init__(
        self,
        client: aioredis.Redis,
        node_id: str,
        handler: Handler,
        *,
        keys: Keys | None = None,
        placement: Placement | None = None,
    ) -> None:
        self.client = client
        self.node_id = node_id
        self.keys = keys or Keys()
        self.placement = placement or Placement(client, self.keys)
        self._handler = handler
        self._send_lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._raw_pool: aioredis.ConnectionPool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Subscribe, and listen until ``stop``. When it returns, the subscriptions are
        in place: any message published from then on is received."""
        if self._listener is not None:
            return
        # Payloads are read as bytes, on connections of their own: the client's decoding
        # would raise on a payload that is not UTF-8 before the bus could refuse it.
        pool = self.client.connection_pool
        self._raw_pool = aioredis.ConnectionPool(
            connection_class=pool.connection_class,
            **{**pool.connection_kwargs, "decode_responses": False},
        )
        self._pubsub = pubsub = aioredis.Redis(connection_pool=self._raw_pool).pubsub()
        channels = {self.keys.inbox(self.node_id), self.keys.broadcast}
        try:
            await pubsub.subscribe(*channels)
            confirmed: set[str] = set()
            while confirmed != channels:  # Redis confirms each SUBSCRIBE with a message
                reply = await pubsub.get_message(timeout=_POLL)
                if reply is not None and reply["type"] == "subscribe":
                    confirmed.add(_text(reply["channel"]))
        except BaseException:
            await self.stop()
            raise
        self._stopping = False
        self._listener = asyncio.create_task(self._listen(pubsub), name=f"bus {self.node_id}")

    async def stop(self) -> None:
        task, self._listener = self._listener, None
        pubsub, self._pubsub = self._pubsub, None
        if task is not None:
            # Cancelled, and told to end: redis-py 8.1 can swallow a cancellation that
            # lands inside a read, and the loop then ends at its next turn (within _POLL).
            self._stopping = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis-py 8
        pool, self._raw_pool = self._raw_pool, None
        if pool is not None:
            await pool.disconnect()

    async def send_to_node(
        self, node_id: str, body: dict[str, Any], meeting_id: str | None = None
    ) -> int:
        """Send ``body`` to one node; how many listeners received it (0: that node is not
        listening, 1: it is)."""
        return await self._publish(self.keys.inbox(node_id), encode(self.node_id, body, meeting_id))

    async def send_to_meeting(self, meeting_id: str, body: dict[str, Any]) -> str | None:
        """Send ``body`` to the node that holds the meeting; that node's id, or None if no
        live node holds it or its node was not listening (nothing was delivered)."""
        claim = await self.placement.lookup(meeting_id)
        if claim is None or not claim.alive:
            return None
        received = await self.send_to_node(claim.node_id, body, meeting_id)
        return claim.node_id if received else None

    async def broadcast(self, body: dict[str, Any]) -> int:
        """Send ``body`` to every listening node, this one included; how many received it."""
        return await self._publish(self.keys.broadcast, encode(self.node_id, body))

    async def _publish(self, channel: str, payload: str) -> int:
        async with self._send_lock:
            return int(await self.client.publish(channel, payload))

    async def _listen(self, pubsub: PubSub) -> None:
        failures = 0
        while not self._stopping:
            try:
                reply = await pubsub.get_message(timeout=_POLL)
            except Exception as error:
                # Redis away (RedisError, OSError) or a reply redis-py could not read: the
                # listener never ends but by stop().
                pause = _RETRY[min(failures, len(_RETRY) - 1)]
                failures += 1
                logger.warning(
                    "cluster bus of %s could not read from Redis (%r); again in %s s",
                    self.node_id,
                    error,
                    pause,
                )
                await asyncio.sleep(pause)  # back off before reconnecting (and resubscribing)
                continue
            failures = 0
            if reply is None or reply["type"] != "message":
                continue
            await self._deliver(_text(reply["channel"]), reply["data"])

    async def _deliver(self, channel: str, payload: str | bytes) -> None:
        try:
            message = decode(payload, broadcast=channel == self.keys.broadcast)
        except BadMessageError as error:
            logger.warning(
                "cluster bus of %s dropped a message on %s: %s", self.node_id, channel, error
            )
            return
        try:
            await self._handler(message)
        except Exception:
            logger.exception(
                "cluster bus of %s: the handler failed on a message from %s",
                self.node_id,
                message.sender,
            )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
