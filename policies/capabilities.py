"""What a server can do, and what a policy asks of it that it cannot give.

A policy can be valid and still impossible on one server: ``file_share.scan``
on a server without clamd refuses every file, forever; a required camera on a
server run with ``--no-media`` holds every participant, because no video ever
arrives to be checked. The server describes what it can do
(``GET /api/capabilities``); :func:`unsupported` lists, from that description
alone, each rule such a server could never honour, with its JSON pointer, a
stable code and a sentence that says how to fix it. The server refuses to
create a meeting from such a policy (reason ``policy_unsupported``), and the
editor and ``meetwarden policy check --server`` show the same problems.

What is checked is what the server was started with, never whether a part is
up right now: a scanner that is configured but does not answer is a temporary
fault (uploads are refused ``file_scan_unavailable`` with Retry-After), not a
missing capability.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .errors import PolicyIssue
from .model import Policy

__all__ = ["UNSUPPORTED_CODES", "Capabilities", "Scanner", "unsupported"]


class Scanner(BaseModel):
    """The malware scanner (clamd) a server was started with."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    configured: bool = Field(description="Started with --clamd-socket or --clamd-address.")
    reachable: bool = Field(
        default=False,
        description="clamd answered PING just now (false when none is configured).",
    )


class Capabilities(BaseModel):
    """What a running server can do for a meeting; nothing in it is secret.

    Unknown fields are ignored, so a client reads a newer server's description.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: str = Field(default="unknown", description="The server's meetwarden version.")
    media: bool = Field(description="Audio and video are forwarded (false: --no-media).")
    scanner: Scanner
    max_upload_bytes: int = Field(ge=0, description="The largest file upload the server takes.")


UNSUPPORTED_CODES: dict[str, str] = {
    "no_scanner": (
        "file_share.scan is on, files may be shared, and the server has no malware "
        "scanner: every file would be refused."
    ),
    "no_media": (
        "entry.camera.required is on and the server forwards no media (--no-media): no "
        "camera could be checked, so every participant would be held."
    ),
    "upload_too_large": (
        "file_share.max_bytes is larger than the largest upload the server takes."
    ),
}
"""Each code :func:`unsupported` gives, and what it means (printed in docs/policy.md)."""


def unsupported(policy: Policy, capabilities: Capabilities) -> tuple[PolicyIssue, ...]:
    """What ``policy`` asks that a server with ``capabilities`` can never give; () if nothing."""
    problems: list[PolicyIssue] = []
    files = policy.file_share
    sharing_files = files.allowed != "nobody"
    if sharing_files and files.scan and not capabilities.scanner.configured:
        problems.append(
            PolicyIssue(
                "/file_share/scan",
                "no_scanner",
                "This server has no virus scanner (clamd), so files could never be shared: "
                "set file_share.scan to false, or start the server with --clamd-socket "
                "(or --clamd-address)",
            )
        )
    if sharing_files and files.max_bytes > capabilities.max_upload_bytes:
        limit = capabilities.max_upload_bytes
        problems.append(
            PolicyIssue(
                "/file_share/max_bytes",
                "upload_too_large",
                f"This server takes uploads of at most {limit} bytes, so a larger file "
                f"could never arrive: set file_share.max_bytes to {limit} or less",
                params={"limit": limit},
            )
        )
    if policy.entry.camera.required and not capabilities.media:
        problems.append(
            PolicyIssue(
                "/entry/camera/required",
                "no_media",
                "This server forwards no audio or video (it runs with --no-media), so no "
                "camera could ever be checked and every participant would be held: set "
                "entry.camera.required to false, or start the server without --no-media",
            )
        )
    return tuple(problems)
