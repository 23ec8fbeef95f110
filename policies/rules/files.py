"""File sharing: who may share, and what a file really is.

The server sniffs the content and scans it; the facts arrive on the event.
Executables and scripts are refused whatever the policy lists, and a file
whose content disagrees with its name or declared type is refused with its
own reason (a PDF name on an executable, a PNG that is really HTML).
"""

from __future__ import annotations

from ..decision import Decision, allow, refuse
from ..effects import Notify, ShareFile
from ..events import FileDownloadRequested, FileOffered, FileUploadRequested
from ..filetypes import is_forbidden_type
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState
from .common import in_meeting
from .sharing import may_share, share_refusal

__all__ = ["download_requested", "file_offered", "upload_requested"]


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _too_large(policy: Policy, size: int) -> Decision:
    limit = policy.file_share.max_bytes
    return refuse(
        Reason.FILE_TOO_LARGE,
        "/file_share/max_bytes",
        f"The file is {_size_text(size)}; files here can be at most {_size_text(limit)}.",
    )


def upload_requested(policy: Policy, state: MeetingState, event: FileUploadRequested) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    refusal = may_share(policy, person, "file", event.at)
    if refusal is not None:
        return share_refusal(*refusal, "file")
    if event.declared_size is not None and event.declared_size > policy.file_share.max_bytes:
        return _too_large(policy, event.declared_size)
    return allow(Reason.UPLOAD_ALLOWED, "/file_share/allowed", "You may upload the file.")


def file_offered(policy: Policy, state: MeetingState, event: FileOffered) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    refusal = may_share(policy, person, "file", event.at)
    if refusal is not None:
        return share_refusal(*refusal, "file")
    rules = policy.file_share
    if event.size > rules.max_bytes:
        return _too_large(policy, event.size)
    sniffed = event.sniffed_type.lower()
    if event.executable or is_forbidden_type(sniffed):
        return refuse(
            Reason.FILE_TYPE_FORBIDDEN,
            "/file_share/types",
            "Programs and scripts cannot be shared in meetings.",
            Notify("hosts", "file_refused", person.id, f"{person.name} tried to share a program."),
        )
    if event.content_mismatch:
        return refuse(
            Reason.FILE_TYPE_MISMATCH,
            "/file_share/types",
            "The file's content does not match its name or type, so it was not shared.",
            Notify("hosts", "file_refused", person.id, f"{person.name} shared a disguised file."),
        )
    if sniffed not in {t.lower() for t in rules.types}:
        return refuse(
            Reason.FILE_TYPE_NOT_ALLOWED,
            "/file_share/types",
            f"Files of type {sniffed} cannot be shared here; allowed: {', '.join(rules.types)}.",
        )
    if rules.scan:
        if event.scan_result == "infected":
            return refuse(
                Reason.FILE_INFECTED,
                "/file_share/scan",
                "The malware scan flagged this file, so it was not shared.",
                Notify(
                    "hosts", "file_refused", person.id, f"{person.name} shared an infected file."
                ),
            )
        if event.scan_result != "clean":
            return refuse(
                Reason.FILE_SCAN_UNAVAILABLE,
                "/file_share/scan",
                "The file could not be checked for malware right now; try again later.",
            )
    return allow(
        Reason.FILE_ACCEPTED,
        "/file_share/types",
        "Your file is shared.",
        ShareFile(person.id, event.file_id),
    )


def download_requested(
    policy: Policy, state: MeetingState, event: FileDownloadRequested
) -> Decision:
    """Everyone admitted now may download what was shared; nobody waiting, nobody gone."""
    person = state.get(event.participant)
    if person is None or not person.admitted:
        return refuse(
            Reason.NOT_ADMITTED,
            "/file_share",
            "Only people admitted to the meeting can download its files.",
        )
    return allow(Reason.DOWNLOAD_ALLOWED, "/file_share", "You may download the file.")
