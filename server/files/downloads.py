"""Downloads: a shared file, for a participant admitted to its meeting now.

Who may download is checked live (``access.py``) and every attempt by an
identified participant is recorded, allowed or not. A file is served once
its row says ``shared``, or from the moment the engine allowed it while that
row is being written (``uploads.py``).
"""

from __future__ import annotations

from pathlib import Path

from meetwarden.policies.decision import BUILTIN_RULE

from ..i18n.markers import N_
from ..store import FileRecord
from .access import SESSION_ENDED, FileRefusedError
from .sharing_state import SharingState

__all__ = ["FileDownloads"]


class FileDownloads(SharingState):
    """Serving shared files to the participants of their meeting."""

    async def download(
        self, meeting_id: str, authorization: str | None, file_id: str
    ) -> tuple[FileRecord, Path]:
        """The shared file and its path, for an admitted participant of its meeting now.

        Every attempt by an identified participant is recorded, allowed or not.
        """
        caller, live = await self.access.identify(meeting_id, authorization)
        if not live:
            decision_id = self.access.record_download(
                caller,
                file_id,
                allowed=False,
                reason=SESSION_ENDED.reason,
                message=SESSION_ENDED.message,
            )
            raise FileRefusedError(
                SESSION_ENDED.status,
                SESSION_ENDED.reason,
                SESSION_ENDED.rule,
                SESSION_ENDED.message,
                decision_id=decision_id,
            )
        await self.access.may_download(caller, file_id)
        record = self._just_shared.get(file_id) or await self._stored(file_id)
        path = self.files.path_for(record.id) if record is not None else None
        if (
            record is None
            or path is None
            or record.meeting_id != caller.room.meeting_id
            or record.state != "shared"
            or not path.is_file()
        ):
            message = N_("No such file in this meeting.")
            decision_id = self.access.record_download(
                caller, file_id, allowed=False, reason="file_not_found", message=message
            )
            raise FileRefusedError(
                404, "file_not_found", BUILTIN_RULE, message, decision_id=decision_id
            )
        return record, path

    async def _stored(self, file_id: str) -> FileRecord | None:
        try:
            self.files.path_for(file_id)  # refuses anything not shaped like our ids
        except ValueError:
            return None
        return await self.registry.store.get_file(file_id)
