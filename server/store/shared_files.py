"""The store's operations on shared files' metadata (their offers and what became of them).

Metadata only: the bytes are in server/files/storage.py's directory. A mixin
of :class:`~meetwarden.server.store.Store` (each operation one transaction,
failures as :class:`StoreError`).
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, insert, select, update

from .errors import RecordExistsError, RecordNotFoundError
from .records import FileRecord
from .tables import files, meetings
from .transactions import Transactions, require_meetings

__all__ = ["SharedFileRecords"]


class SharedFileRecords(Transactions):
    """The store's operations on shared files' metadata."""

    async def add_file(self, record: FileRecord) -> None:
        """Store a file's metadata; RecordExistsError if the id is taken."""
        async with self._writing("store a file's metadata") as connection:
            await require_meetings(connection, {record.meeting_id})
            found = await connection.scalar(select(files.c.id).where(files.c.id == record.id))
            if found is not None:
                raise RecordExistsError(f"a file with id {record.id!r} is already stored")
            await connection.execute(insert(files).values(dataclasses.asdict(record)))

    async def get_file(self, file_id: str) -> FileRecord | None:
        """The file's metadata, or None if no such file is stored."""
        async with self._reading("read a file's metadata") as connection:
            result = await connection.execute(select(files).where(files.c.id == file_id))
            row = result.mappings().first()
        return None if row is None else FileRecord(**row)

    async def mark_file_shared(self, file_id: str) -> None:
        """The engine allowed the offer; RecordNotFoundError if the file is unknown."""
        async with self._writing("mark a file shared") as connection:
            found = await connection.scalar(
                update(files)
                .where(files.c.id == file_id)
                .values(state="shared")
                .returning(files.c.id)
            )
            if found is None:
                raise RecordNotFoundError(f"no file with id {file_id!r} is stored")

    async def delete_file(self, file_id: str) -> bool:
        """Forget a file's metadata; False if there was none."""
        async with self._writing("delete a file's metadata") as connection:
            found = await connection.scalar(
                delete(files).where(files.c.id == file_id).returning(files.c.id)
            )
        return found is not None

    async def pending_files(self) -> list[FileRecord]:
        """Files whose offer was never decided (the server stopped meanwhile), oldest first."""
        query = select(files).where(files.c.state == "pending").order_by(files.c.created_at)
        async with self._reading("list undecided files") as connection:
            result = await connection.execute(query)
            return [FileRecord(**row) for row in result.mappings()]

    async def files_of_ended_meetings(self) -> list[FileRecord]:
        """Every stored file whose meeting has ended (they are deleted with their meeting)."""
        ended = select(meetings.c.id).where(meetings.c.ended_at.is_not(None))
        query = select(files).where(files.c.meeting_id.in_(ended)).order_by(files.c.created_at)
        async with self._reading("list the files of ended meetings") as connection:
            result = await connection.execute(query)
            return [FileRecord(**row) for row in result.mappings()]
