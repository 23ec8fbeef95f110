"""An upload through the engine twice: asked before a byte is read, offered once it is known.

The order of an upload (issue 7; OWASP File Upload Cheat Sheet; security bar
group J, tests 49 to 52):

1. The caller is a live participant (``access.FileAccess.caller``).
2. Before a byte is accepted, the engine decides ``FileUploadRequested``:
   who may share (the policy's mode, a live grant) and the declared size.
3. The body is streamed to disk under a server-generated id, the policy's
   ``max_bytes`` enforced while receiving, with a total and an idle timeout;
   a refused, cut-off or timed-out upload leaves no file (``storage.py``).
4. The content is sniffed (libmagic, in a thread) and, when the policy says
   ``file_share.scan``, scanned by clamd; a scanner that is down or absent
   gives ``unavailable``, never ``clean``, so the engine refuses the file
   (``file_scan_unavailable``): it is never passed unchecked.
5. The engine decides ``FileOffered`` with those facts. A grant that expired
   while the bytes arrived is seen here (no live grant: refused). Refused:
   the file and its metadata are deleted. Allowed: the Room's
   ``ShareFile`` effect tells everyone admitted (``file_shared``).

The metadata row is written ``pending`` before the offer is decided and
``shared`` after; the Room announces a file before ``submit`` returns, so
the file is also served from memory from the moment the engine allowed it
(the ``reply`` hook) until the row says so (``downloads.py``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from meetwarden import protocol as wire
from meetwarden.policies.decision import BUILTIN_RULE
from meetwarden.policies.events import FileOffered, FileUploadRequested

from ..i18n.markers import N_
from ..runtime.decided import Decided
from ..store import FileRecord, StoreError
from .access import Caller, FileRefusedError, record_audit
from .filenames import sanitize_filename
from .scanner import ScanResult, Verdict
from .sharing_state import SharingState
from .sniff import SniffResult, sniff_file
from .storage import (
    StoredFile,
    UploadError,
    UploadNotStoredError,
    UploadTooLargeError,
)

__all__ = ["MAX_UPLOADS_PER_PARTICIPANT", "FileUploads", "SharedFile"]

log = logging.getLogger("meetwarden.files")

_DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})


def _strerror(error: OSError) -> str:
    """'its disk is full', 'its disk is read-only', or the system's words."""
    if error.errno in _DISK_FULL:
        return "its disk is full"
    if error.errno == errno.EROFS:
        return "its disk is read-only"
    return os.strerror(error.errno).lower() if error.errno else str(error)


MAX_UPLOADS_PER_PARTICIPANT: Final = 2
"""Uploads one participant may have in flight at once (each holds a file and a socket)."""
_MAX_DECLARED_TYPE: Final = 255


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file the engine let through, and its decision."""

    record: FileRecord
    decision: Decided


class FileUploads(SharingState):
    """Uploads through the engine: at most a few per participant, each decided twice."""

    async def upload(
        self,
        caller: Caller,
        chunks: AsyncIterable[bytes],
        *,
        name: str,
        declared_type: str | None,
        declared_size: int | None,
    ) -> SharedFile:
        """Take one upload through the engine; FileRefusedError says why not, with its code."""
        room, me = caller.room, caller.participant_id
        with self._upload_slot(room.meeting_id, me):
            # Step 2: who may share, and the declared size, before any byte is read.
            asked = await room.submit(
                FileUploadRequested(participant=me, declared_size=declared_size)
            )
            if not asked.allowed:
                raise FileRefusedError.from_decision(asked)
            limit = room.policy.file_share.max_bytes
            try:
                stored = await self.files.receive(
                    chunks,
                    max_bytes=limit,
                    total_timeout=self.total_timeout,
                    idle_timeout=self.idle_timeout,
                    declared_size=declared_size,
                )
            except UploadError as error:
                raise self._stopped(caller, error, declared_size) from None
            return await self._offer(caller, stored, name, declared_type)

    @contextmanager
    def _upload_slot(self, meeting_id: str, participant_id: str) -> Iterator[None]:
        key = (meeting_id, participant_id)
        if self._uploading[key] >= MAX_UPLOADS_PER_PARTICIPANT:
            raise FileRefusedError(
                429,
                "too_many_uploads",
                BUILTIN_RULE,
                N_("At most {count} uploads at a time; wait for one to end."),
                params={"count": MAX_UPLOADS_PER_PARTICIPANT},
            )
        self._uploading[key] += 1
        try:
            yield
        finally:
            self._uploading[key] -= 1
            if self._uploading[key] <= 0:
                del self._uploading[key]

    def _stopped(
        self, caller: Caller, error: UploadError, declared_size: int | None
    ) -> FileRefusedError:
        """Record an upload the server stopped while receiving, and say why."""
        if isinstance(error, UploadTooLargeError):
            refusal = FileRefusedError(
                413,
                error.code,
                "/file_share/max_bytes",
                N_("The file is larger than {max_bytes:size}, the most this meeting accepts."),
                params={"max_bytes": error.limit},
                decided=True,
                stopped_reading=declared_size is None,  # a Content-Length body is drained
            )
        elif isinstance(error, UploadNotStoredError):
            log.error("meeting %s: an upload was not stored: %s", caller.room.meeting_id[:8], error)
            refusal = FileRefusedError(
                507 if error.error.errno in _DISK_FULL else 503,
                error.code,
                BUILTIN_RULE,
                N_(
                    "The server could not store the file: {error}. Nothing was shared and the "
                    "meeting goes on. Try again later; if it keeps happening, tell the "
                    "server's operator."
                ),
                params={"error": _strerror(error.error)},
                retry_after=60,
                stopped_reading=declared_size is None,
            )
        else:
            status = 408 if error.code == "upload_timed_out" else 400
            refusal = FileRefusedError(
                status,
                error.code,
                BUILTIN_RULE,
                N_("The upload failed: {error}."),
                params={"error": str(error)},
                stopped_reading=error.code == "upload_timed_out",
            )
        refusal.decision_id = record_audit(
            self.registry.audit,
            caller.room,
            caller.participant_id,
            {
                "type": "file_upload_stopped",
                "declared_size": declared_size,
                "received": getattr(error, "received", None),
            },
            allowed=False,
            reason=refusal.reason,
            rule=refusal.rule,
            message=refusal.message,
            params=refusal.params,
        )
        return refusal

    async def _offer(
        self, caller: Caller, stored: StoredFile, name: str, declared_type: str | None
    ) -> SharedFile:
        """Steps 4 and 5: sniff, scan, let the engine decide; delete whatever is refused."""
        room, me, file_id = caller.room, caller.participant_id, stored.file_id
        shared = False
        row_written = False
        try:
            sniffed = await asyncio.to_thread(sniff_file, stored.path, name or None, declared_type)
            scan = await self._scan(stored.path) if room.policy.file_share.scan else None
            person = room.state.get(me)
            record = FileRecord(
                id=file_id,
                meeting_id=room.meeting_id,
                participant=me,
                sender_name=person.name if person is not None else "",
                name=sanitize_filename(name),
                size=stored.size,
                content_type=sniffed.mime,
                sha256=stored.sha256,
                created_at=time.time(),
            )
            try:
                await self.registry.store.add_file(record)
            except StoreError as error:  # a read-only or full database
                log.error(
                    "meeting %s: a file's record was not stored: %s", room.meeting_id[:8], error
                )
                raise FileRefusedError(
                    503,
                    "file_not_stored",
                    BUILTIN_RULE,
                    N_(
                        "The server could not record the file: its database refused the "
                        "write. Nothing was shared and the meeting goes on. Try again later; "
                        "if it keeps happening, tell the server's operator."
                    ),
                    retry_after=60,
                ) from None
            row_written = True
            announcement = wire.FileShared(
                file_id=file_id,
                name=record.name,
                size=record.size,
                content_type=record.content_type,
                sender=me,
                sender_name=record.sender_name,
            )

            def heard(decided: Decided) -> None:
                nonlocal shared
                if decided.allowed:  # announced as soon as this returns: serve it from now
                    shared = True
                    self._just_shared[file_id] = replace(record, state="shared")

            decision = await room.submit(
                _offered(me, record, sniffed, declared_type, scan),
                context={"file_shared": announcement},
                reply=heard,
            )
        finally:
            if not shared:
                self.files.delete(file_id)
                if row_written:
                    with suppress(StoreError):
                        await self.registry.store.delete_file(file_id)
        if not decision.allowed:
            raise FileRefusedError.from_decision(decision)
        try:
            await self.registry.store.mark_file_shared(file_id)
        except StoreError:  # served from memory until a restart, which then deletes it
            log.exception("could not mark file %s shared", file_id)
        else:
            self._just_shared.pop(file_id, None)
        return SharedFile(replace(record, state="shared"), decision)

    async def _scan(self, path: Path) -> ScanResult:
        if self.scanner is None:
            result = ScanResult(
                Verdict.UNAVAILABLE, cause="no clamd is configured (--clamd-socket)"
            )
        else:
            result = await self.scanner.scan_file(path)
        if result.verdict is Verdict.UNAVAILABLE:
            log.warning("file not scanned, so not shared: %s", result.cause)
        elif result.verdict is Verdict.INFECTED:
            log.warning("malware scan found %s in an upload; not shared", result.signature)
        return result


def _offered(
    participant: str,
    record: FileRecord,
    sniffed: SniffResult,
    declared_type: str | None,
    scan: ScanResult | None,
) -> FileOffered:
    """The engine's event: the facts the server found, none of them the sender's word.

    ``executable`` covers every finding that is never shared (a program or
    script, active content such as HTML or SVG with script, a name claiming
    an executable: security bar test 51); ``content_mismatch`` covers a name
    or declared type the content contradicts and polyglots (test 50).
    """
    claimed = sniffed.declared_mime if declared_type is not None else None
    return FileOffered(
        participant=participant,
        file_id=record.id,
        name=record.name,
        size=record.size,
        sniffed_type=record.content_type,
        declared_type=claimed[:_MAX_DECLARED_TYPE] if claimed else None,
        content_mismatch=sniffed.mismatch or sniffed.polyglot,
        executable=sniffed.forbidden,
        scan_result=scan.verdict.value if scan is not None else None,
    )
