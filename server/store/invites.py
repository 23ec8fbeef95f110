"""The store's operations on invites: store one, read it, revoke it.

A mixin of :class:`~meetwarden.server.store.Store` (each operation one
transaction, failures as :class:`StoreError`).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from .errors import RecordExistsError, RecordNotFoundError
from .records import InviteRecord
from .rows import invite_from_row, invite_row
from .tables import invites
from .transactions import Transactions, require_meetings

__all__ = ["InviteRecords"]


class InviteRecords(Transactions):
    """The store's operations on invites."""

    async def add_invite(self, record: InviteRecord) -> None:
        """Store an invite; its meeting must be stored and its ``jti`` new."""
        async with self._writing("store an invite") as connection:
            await require_meetings(connection, {record.meeting_id})
            found = await connection.scalar(
                select(invites.c.jti).where(invites.c.jti == record.jti)
            )
            if found is not None:
                raise RecordExistsError(f"an invite with jti {record.jti!r} is already stored")
            await connection.execute(insert(invites).values(invite_row(record)))

    async def get_invite(self, jti: str) -> InviteRecord | None:
        """The invite named ``jti``, or None."""
        async with self._reading("read an invite") as connection:
            result = await connection.execute(select(invites).where(invites.c.jti == jti))
            row = result.mappings().first()
        return None if row is None else invite_from_row(row)

    async def revoke_invite(self, jti: str) -> None:
        """Mark the invite revoked (revoking twice is fine); RecordNotFoundError if unknown."""
        async with self._writing("revoke an invite") as connection:
            found = await connection.scalar(
                update(invites)
                .where(invites.c.jti == jti)
                .values(revoked=True)
                .returning(invites.c.jti)
            )
            if found is None:
                raise RecordNotFoundError(f"no invite with jti {jti!r} is stored")
