"""The store's shared keys: one value per name, made once, the same for every node.

A mixin of :class:`~meetwarden.server.store.Store`. Two nodes starting at once
may both offer a value; the first stored wins and both read it back (the insert
does nothing on a name already there: ``ON CONFLICT DO NOTHING`` on PostgreSQL
and SQLite alike).
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .tables import server_keys
from .transactions import Transactions

__all__ = ["ServerKeys"]


class ServerKeys(Transactions):
    """The store's operations on shared keys."""

    async def shared_key(self, name: str, offered: str) -> str:
        """The value stored under ``name``; ``offered`` is stored first if there is none."""
        async with self._writing("read a shared key") as connection:
            dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
            statement = (
                dialect.insert(server_keys)
                .values(name=name, value=offered, created_at=time.time())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            await connection.execute(statement)
            value = await connection.scalar(
                select(server_keys.c.value).where(server_keys.c.name == name)
            )
        assert value is not None
        return str(value)
