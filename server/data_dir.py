"""The data directory, claimed by one server: made if missing, writable, locked.

Two servers on one SQLite file and one files directory would each believe they
hold the meetings (two Rooms for one meeting, two deleters of its files), so a
server takes an exclusive ``flock`` on ``meetwarden.lock`` in its data
directory and holds it for as long as the process lives. The kernel releases
the lock when the process ends, however it ends, so a crash leaves no stale
lock behind (flock(2)). The management commands (``keys``, ``accounts``) take no
lock: they are meant to work beside a running server.

Problems are one sentence that says what to do, never a traceback.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

__all__ = ["LOCK_FILE", "DataDirError", "DataDirLock", "claim_data_dir"]

LOCK_FILE = "meetwarden.lock"


class DataDirError(Exception):
    """The data directory cannot be used; ``str(error)`` is the sentence to print."""


class DataDirLock:
    """The held lock; ``release`` (or the process's end) lets another server start."""

    def __init__(self, descriptor: int, path: Path) -> None:
        self._descriptor: int | None = descriptor
        self.path = path

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None


def _reason(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno else str(error)


def claim_data_dir(data_dir: Path) -> DataDirLock:
    """Makes ``data_dir`` if needed and locks it for this process, or raises DataDirError."""
    shown = data_dir.resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataDirError(
            f"cannot create the data directory {shown} ({_reason(error)}): create it for the "
            "user that runs meetwarden, or choose another with --data-dir."
        ) from None
    path = data_dir / LOCK_FILE
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise DataDirError(
                f"the data directory {shown} is not writable ({_reason(error)}): meetwarden "
                "keeps its database, signing key and files there, so give it a writable "
                "--data-dir."
            ) from None
        raise DataDirError(
            f"cannot use the data directory {shown} ({_reason(error)}); choose another with "
            "--data-dir."
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        holder = _holder(descriptor)
        os.close(descriptor)
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise DataDirError(
                f"another meetwarden server{holder} is already using the data directory "
                f"{shown}: stop it first, or give this one its own --data-dir."
            ) from None
        raise DataDirError(f"cannot lock the data directory {shown} ({_reason(error)}).") from None
    _write_pid(descriptor)
    return DataDirLock(descriptor, path)


def _holder(descriptor: int) -> str:
    """ " (process 1234)" from the lock file, if the holder wrote its pid."""
    try:
        written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {written})" if written.isdigit() else ""


def _write_pid(descriptor: int) -> None:
    """For the message the next server prints; a failure to write it changes nothing."""
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass
