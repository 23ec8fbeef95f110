"""Which node holds which meeting: placed by load, taken over when its node dies.

LiveKit maps rooms to nodes in a Redis hash that the node which received the
request writes (pkg/routing: SetNodeForRoom); two requests for a new room can
then pick two nodes. Here a meeting's claim is written by a script that reads
the node table and places the meeting in the same atomic step
(``placement_scripts``), so every node that asks gets the same answer:

- ``place``: the holder if it is alive (even a draining one: it keeps its
  meetings); else the least-loaded live node that is not draining, as a new
  claim, or as a takeover of a dead holder's claim. Exactly one caller's script
  makes the claim; the others read it.
- ``lookup``: the claim, with whether its node is alive.
- ``release``: the holder gives the meeting up when it ends.

Every claim has a generation, larger than any before it, so that a holder
can tell its own claim from a successor's (a fencing token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import redis.asyncio as aioredis

from .keys import Keys
from .placement_scripts import LOOKUP, PLACE, RELEASE

__all__ = ["Claim", "NoNodeAvailableError", "Outcome", "Placement"]

Outcome = Literal["held", "placed", "taken_over", "looked_up"]


class NoNodeAvailableError(Exception):
    """No live node that is not draining can take a meeting."""


@dataclass(frozen=True)
class Claim:
    meeting_id: str
    node_id: str
    generation: int
    outcome: Outcome
    alive: bool = True
    """Whether the holder's heartbeat is current (``lookup`` can find a dead holder's claim)."""


class Placement:
    def __init__(self, client: aioredis.Redis, keys: Keys | None = None) -> None:
        self.client = client
        self.keys = keys or Keys()
        self._place = client.register_script(PLACE)
        self._lookup = client.register_script(LOOKUP)
        self._release = client.register_script(RELEASE)

    async def place(self, meeting_id: str) -> Claim:
        """The node that holds ``meeting_id``, placing it first if no live node does.

        Raises NoNodeAvailableError when it must be placed and every live node drains
        (or none is alive).
        """
        keys = self.keys
        result = await self._place(
            keys=[keys.meeting(meeting_id), keys.nodes, keys.generations],
            args=[keys.prefix, meeting_id],
        )
        if result is None:
            raise NoNodeAvailableError(f"no live node that is not draining can take {meeting_id!r}")
        node_id, generation, outcome = result
        return Claim(meeting_id, str(node_id), int(generation), cast(Outcome, outcome))

    async def lookup(self, meeting_id: str) -> Claim | None:
        """The meeting's claim, alive or not; None if it is not placed."""
        result = await self._lookup(keys=[self.keys.meeting(meeting_id)], args=[self.keys.prefix])
        if result is None:
            return None
        node_id, generation, alive = result
        return Claim(meeting_id, str(node_id), int(generation), "looked_up", alive=bool(alive))

    async def release(self, meeting_id: str, node_id: str) -> bool:
        """Give the meeting up as ``node_id`` (when it ends); False if that node did not hold it."""
        keys = self.keys
        released = await self._release(
            keys=[keys.meeting(meeting_id)], args=[keys.prefix, meeting_id, node_id]
        )
        return bool(released)

    async def meetings_of(self, node_id: str) -> set[str]:
        """The meetings placed on a node (a dead node's are those waiting for a new holder)."""
        members = await self.client.smembers(self.keys.node_meetings(node_id))
        return {str(member) for member in members}

    async def take_over_from(self, node_id: str) -> list[Claim]:
        """Re-place every meeting of ``node_id`` if it is dead: the new claims.

        Safe to run on several nodes at once: each meeting gets exactly one new holder,
        and a caller that finds it already taken over gets that claim as ``held``.
        """
        claims = []
        for meeting_id in sorted(await self.meetings_of(node_id)):
            claims.append(await self.place(meeting_id))
        return claims
