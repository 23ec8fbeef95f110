"""File sharing in a meeting: an upload goes through the engine twice, and is served once shared.

``FileSharing`` is the file endpoints' work (``routes.py``), in parts over
what they share (``sharing_state.py``): uploads through the engine
(``uploads.py``, which gives the order of an upload) and downloads
(``downloads.py``). This module puts them together, makes them from the
server's settings, and deletes files when they are no longer shared: a
meeting's files go when it ends, and at start-up whatever a stopped server
left half done. A row still ``pending`` at start-up belongs to an offer the
server never finished deciding: it is deleted.
"""

from __future__ import annotations

import logging

from ..config import Settings
from ..runtime.registry import Registry
from ..store import FileRecord
from .downloads import FileDownloads
from .scanner import ClamdScanner
from .storage import FileStore
from .tokens import FileTokens
from .uploads import FileUploads, SharedFile

__all__ = ["FileSharing", "SharedFile"]

log = logging.getLogger("meetwarden.files")


def _scanner(settings: Settings) -> ClamdScanner | None:
    if settings.clamd_socket:
        return ClamdScanner(socket_path=settings.clamd_socket, timeout=settings.clamd_timeout)
    if settings.clamd_address:
        host, _, port = settings.clamd_address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--clamd-address is HOST:PORT, not {settings.clamd_address!r}")
        return ClamdScanner(host=host, port=int(port), timeout=settings.clamd_timeout)
    return None


class FileSharing(FileUploads, FileDownloads):
    """The file endpoints' work: tokens, uploads through the engine, downloads."""

    @classmethod
    def from_settings(cls, settings: Settings, registry: Registry, secret: bytes) -> FileSharing:
        return cls(
            registry=registry,
            files=FileStore(settings.resolved_files_dir),
            tokens=FileTokens(secret),
            scanner=_scanner(settings),
            total_timeout=settings.upload_total_timeout,
            idle_timeout=settings.upload_idle_timeout,
        )

    async def start(self, sweep: bool = True) -> None:
        """Delete what a stopped server left half done: partial uploads, undecided offers,
        files of meetings that ended; from now on a meeting's files go when it ends.

        ``sweep=False`` (a worker restarted beside running ones) deletes nothing now: the
        half-done uploads may be the other workers' own.
        """
        self.registry.when_ended(self._meeting_ended)
        if not sweep:
            return
        partials = self.files.sweep_partials()
        undecided = await self.registry.store.pending_files()
        for record in undecided:
            await self._delete(record)
        ended = await self._delete_files_of_ended_meetings()
        if partials or undecided or ended:
            log.info(
                "deleted %d partial uploads, %d undecided files, %d files of ended meetings",
                partials,
                len(undecided),
                ended,
            )

    async def _meeting_ended(self, meeting_id: str) -> None:
        deleted = await self._delete_files_of_ended_meetings()
        if deleted:
            log.info("meeting %s ended: deleted %d shared files", meeting_id[:8], deleted)

    async def _delete_files_of_ended_meetings(self) -> int:
        records = await self.registry.store.files_of_ended_meetings()
        for record in records:
            await self._delete(record)
        return len(records)

    async def _delete(self, record: FileRecord) -> None:
        self._just_shared.pop(record.id, None)
        self.files.delete(record.id)
        await self.registry.store.delete_file(record.id)
