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
from ..state import MeetingState, Participant
from .common import in_meeting
from .sharing import may_share, share_refusal

__all__ = ["download_requested", "file_offered", "upload_requested"]


def _too_large(policy: Policy, size: int) -> Decision:
    limit = policy.file_share.max_bytes
    return refuse(Reason.FILE_TOO_LARGE, "/file_share/max_bytes", bytes=size, max_bytes=limit)


def upload_requested(policy: Policy, state: MeetingState, event: FileUploadRequested) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    refusal = may_share(policy, person, "file", event.at)
    if refusal is not None:
        return share_refusal(*refusal, "file")
    if event.declared_size is not None and event.declared_size > policy.file_share.max_bytes:
        return _too_large(policy, event.declared_size)
    return allow(Reason.UPLOAD_ALLOWED, "/file_share/allowed")


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
            _refused_notice(person, "program"),
        )
    if event.content_mismatch:
        return refuse(
            Reason.FILE_TYPE_MISMATCH,
            "/file_share/types",
            _refused_notice(person, "disguised"),
        )
    if sniffed not in {t.lower() for t in rules.types}:
        return refuse(
            Reason.FILE_TYPE_NOT_ALLOWED,
            "/file_share/types",
            type=sniffed,
            allowed=tuple(rules.types),
        )
    if rules.scan:
        if event.scan_result == "infected":
            return refuse(
                Reason.FILE_INFECTED, "/file_share/scan", _refused_notice(person, "infected")
            )
        if event.scan_result != "clean":
            return refuse(Reason.FILE_SCAN_UNAVAILABLE, "/file_share/scan")
    return allow(Reason.FILE_ACCEPTED, "/file_share/types", ShareFile(person.id, event.file_id))


def _refused_notice(person: Participant, what: str) -> Notify:
    """The hosts hear that someone tried: a program, a disguised or an infected file."""
    return Notify("hosts", "file_refused", person.id, params={"name": person.name, "what": what})


def download_requested(
    policy: Policy, state: MeetingState, event: FileDownloadRequested
) -> Decision:
    """Everyone admitted now may download what was shared; nobody waiting, nobody gone."""
    person = state.get(event.participant)
    if person is None or not person.admitted:
        return refuse(Reason.NOT_ADMITTED, "/file_share", what="download")
    return allow(Reason.DOWNLOAD_ALLOWED, "/file_share")
