"""Guessing budgets that every node of a cluster counts together, in Redis.

A budget is a sliding window of attempts per key (an address, an account), as
``server/hosting/accounts.py`` keeps one in a process. With several nodes behind a
load balancer, each node's own count would give a guesser one budget per node;
here each key is a sorted set of its attempts' times, and one script checks the
budget and counts the attempt in one step (Redis runs a script as one command,
https://redis.io/docs/latest/develop/interact/programmability/eval-intro/), so
attempts on every node at once cannot overrun it. Times are Redis's own clock
(``TIME``), so nodes whose clocks differ count one window.
"""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis

from .keys import Keys

__all__ = ["SharedBudget"]

# KEYS[1]: the key's attempts (sorted set: member -> time). ARGV: window seconds, limit,
# a new member. Returns nil when the attempt is counted, else the seconds to wait.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return false
"""


class SharedBudget:
    """At most ``limit`` attempts per key in a sliding window, counted in Redis for every
    node; the same calls as a process's own budget (``server/budgets.py``, ``LocalBudget``)."""

    def __init__(
        self,
        client: aioredis.Redis,
        name: str,
        limit: int,
        window_seconds: float,
        keys: Keys | None = None,
    ) -> None:
        self._client = client
        self._prefix = (keys or Keys()).attempts(name)
        self.limit = limit
        self.window = window_seconds
        self._take = client.register_script(_TAKE)

    async def take(self, key: str) -> float | None:
        """Counts an attempt and returns None, or the seconds to wait when none is left."""
        member = secrets.token_hex(8)
        wait = await self._take(keys=[self._prefix + key], args=[self.window, self.limit, member])
        return None if wait is None else max(0.0, float(wait))

    async def give_back(self, key: str) -> None:
        """Returns the latest attempt (it succeeded: it was no guess)."""
        await self._client.zpopmax(self._prefix + key)
