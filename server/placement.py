"""Which worker of this machine holds a meeting, and which meeting a request is for.

``meetwarden serve --workers N`` runs N nodes behind one address (server/workers/).
Each meeting lives on exactly one of them, chosen from its id alone, so that the
front process that routes connections and every worker agree without asking each
other: a stable hash of the id, modulo the number of workers (the count never
changes while the server runs; a worker that dies is restarted in its own place).

Host accounts' sign-ins all go to one worker (``SIGN_IN_WORKER``): their guessing
budgets, per address and per account (server/hosting/accounts.py), are counted in
the process that checks them, so that N workers do not give N budgets.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "SIGN_IN_PATH",
    "SIGN_IN_WORKER",
    "WorkerPlace",
    "meeting_in_path",
    "worker_for",
    "worker_for_path",
]

# Every route about one meeting names it right after one of these prefixes: the
# participant socket, the REST API (policy, audit, invites, files, end) and the join page.
_MEETING_PATH = re.compile(r"/(?:ws/meetings|api/meetings|m)/([A-Za-z0-9_-]{1,64})(?=[/?#]|$)")


def meeting_in_path(path: str) -> str | None:
    """The meeting a request path is about, or None (a path any worker can answer)."""
    match = _MEETING_PATH.match(path)
    return match.group(1) if match else None


SIGN_IN_PATH = "/api/session"
"""Signing in to a host account (and the session's status, and signing out)."""
SIGN_IN_WORKER = 0


def worker_for_path(path: str, workers: int) -> int | None:
    """The worker that must answer a request for ``path``, or None (any worker)."""
    meeting = meeting_in_path(path)
    if meeting is not None:
        return worker_for(meeting, workers)
    if path.split("?", 1)[0] == SIGN_IN_PATH:
        return SIGN_IN_WORKER
    return None


def worker_for(meeting_id: str, workers: int) -> int:
    """The index of the worker (0 .. workers-1) that holds ``meeting_id``."""
    digest = hashlib.blake2b(meeting_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % workers


@dataclass(frozen=True, slots=True)
class WorkerPlace:
    """A worker's place among its machine's workers."""

    index: int
    count: int

    def holds(self, meeting_id: str) -> bool:
        return worker_for(meeting_id, self.count) == self.index

    @property
    def signs_in(self) -> bool:
        """Whether host accounts sign in here (their guessing budgets are counted here)."""
        return self.index == SIGN_IN_WORKER
