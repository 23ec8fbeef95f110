"""What every group of the store's operations stands on: a transaction to work in.

:class:`~meetwarden.server.store.Store` opens the transactions (``store.py``);
the groups of operations (``meetings.py``, ``invites.py``, ``audit.py``,
``shared_files.py``, ``hosting.py``) are mixins that only ask for one. Beside
them, the check that the meetings a write names are stored, and the error
that says one is not.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractAsyncContextManager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from .errors import RecordNotFoundError
from .tables import meetings

__all__ = ["Transactions", "no_meeting", "require_meetings"]


class Transactions:
    """The two transactions a group of the store's operations runs in."""

    @abstractmethod
    def _writing(self, what: str) -> AbstractAsyncContextManager[AsyncConnection]: ...

    @abstractmethod
    def _reading(self, what: str) -> AbstractAsyncContextManager[AsyncConnection]: ...


async def require_meetings(connection: AsyncConnection, meeting_ids: set[str]) -> None:
    """RecordNotFoundError naming the first of ``meeting_ids`` that is not stored."""
    query = select(meetings.c.id).where(meetings.c.id.in_(meeting_ids))
    found = set((await connection.scalars(query)).all())
    missing = sorted(meeting_ids - found)
    if missing:
        raise no_meeting(missing[0])


def no_meeting(meeting_id: str) -> RecordNotFoundError:
    return RecordNotFoundError(f"no meeting with id {meeting_id!r} is stored")
