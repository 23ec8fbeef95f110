"""What the upload and download sides of file sharing share: storage, access, what is in flight.

``FileSharing`` (``sharing.py``) is this state plus its upload side
(``uploads.py``) and its download side (``downloads.py``): the stored files,
the live access checks and tokens, the malware scanner, the limits on an
upload, the uploads each participant has in flight, and the files the engine
just allowed whose rows do not say so yet (served from memory meanwhile).
"""

from __future__ import annotations

from collections import Counter

from ..runtime.registry import Registry
from ..store import FileRecord
from .access import FileAccess
from .scanner import ClamdScanner
from .storage import FileStore
from .tokens import FileTokens

__all__ = ["SharingState"]


class SharingState:
    """The file store, access, scanner and limits, and the uploads and shares in flight."""

    def __init__(
        self,
        *,
        registry: Registry,
        files: FileStore,
        tokens: FileTokens,
        scanner: ClamdScanner | None,
        total_timeout: float,
        idle_timeout: float,
    ) -> None:
        self.registry = registry
        self.files = files
        self.access = FileAccess(registry, tokens)
        self.scanner = scanner
        self.total_timeout = total_timeout
        self.idle_timeout = idle_timeout
        self._uploading: Counter[tuple[str, str]] = Counter()
        self._just_shared: dict[str, FileRecord] = {}
