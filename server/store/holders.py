"""Which node may write a meeting's places: fencing by the placement's claim generation.

A mixin of :class:`~meetwarden.server.store.Store`. With several nodes, Redis
places each meeting on one node under a claim whose generation grows with every
takeover (server/cluster/placement.py). A node that loads a meeting records its
generation here (``hold_meeting``); every save of the meeting's places then
names that generation, and is refused with :class:`FencedOutError` once a larger
one is recorded: a node that stalled past its lease and wakes up cannot
overwrite what the meeting's new node decided (fencing tokens, as in
https://martin.kleppmann.com/2016/02/08/how-to-do-distributed-locking.html).

One node alone (no cluster) names no generation and is never fenced.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .errors import StoreError
from .tables import meeting_holders
from .transactions import Transactions

__all__ = ["FencedOutError", "MeetingHolders", "check_holder", "fenced_error", "fenced_out"]


class FencedOutError(StoreError):
    """Another node has taken the meeting over since this one loaded it: this node no
    longer holds it, and stores nothing more for it."""


class MeetingHolders(Transactions):
    """The store's record of each meeting's current holder."""

    async def hold_meeting(self, meeting_id: str, generation: int) -> None:
        """Record that the holder of claim ``generation`` loads the meeting now.

        Raises FencedOutError if a holder of a larger generation is recorded already."""
        async with self._writing("record a meeting's holder") as connection:
            dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
            inserted = (
                dialect.insert(meeting_holders)
                .values(meeting_id=meeting_id, generation=generation)
                .on_conflict_do_nothing(index_elements=["meeting_id"])
            )
            await connection.execute(inserted)
            raised = (
                update(meeting_holders)
                .where(meeting_holders.c.meeting_id == meeting_id)
                .where(meeting_holders.c.generation <= generation)
                .values(generation=generation)
            )
            if (await connection.execute(raised)).rowcount == 0:
                raise fenced_error(meeting_id, generation)

    async def meeting_holder(self, meeting_id: str) -> int | None:
        """The generation recorded for the meeting's holder, or None."""
        query = select(meeting_holders.c.generation).where(
            meeting_holders.c.meeting_id == meeting_id
        )
        async with self._reading("read a meeting's holder") as connection:
            found: int | None = await connection.scalar(query)
        return found


async def check_holder(connection: AsyncConnection, meeting_id: str, generation: int) -> None:
    """In a write transaction: FencedOutError unless ``generation`` is still the meeting's
    newest holder."""
    if await fenced_out(connection, {meeting_id: generation}):
        raise fenced_error(meeting_id, generation)


async def fenced_out(connection: AsyncConnection, generations: dict[str, int]) -> set[str]:
    """In a write transaction: the meetings of ``generations`` (meeting id to the claim
    generation it was loaded under) whose newest holder is another node's, newer claim.
    Their rows are locked until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite's write transactions exclude each other whole)."""
    if not generations:
        return set()
    query = (
        select(meeting_holders.c.meeting_id, meeting_holders.c.generation)
        .where(meeting_holders.c.meeting_id.in_(list(generations)))
        .with_for_update()
    )
    rows = (await connection.execute(query)).all()
    return {meeting_id for meeting_id, recorded in rows if recorded > generations[meeting_id]}


def fenced_error(meeting_id: str, generation: int) -> FencedOutError:
    return FencedOutError(
        f"meeting {meeting_id[:8]} was taken over by another node (its claim is newer than "
        f"{generation}): this node stores nothing more for it"
    )
