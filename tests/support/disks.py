"""Real small disks for fault tests: filled, made read-only, or failed.

A tmpfs of a few MiB fills up for real, and remounts read-only when nothing
holds a file open for writing. A database holds its file open, so a database's
disk is failed instead the way ext4 fails one after an I/O error
(``errors=remount-ro``): an ext4 image on a loop device, shut down with
EXT4_IOC_SHUTDOWN (the ioctl behind ``xfs_io -c shutdown``), after which every
read and write of it fails. Mounting needs root (the test machines and CI run
as root); elsewhere the tests that need a disk of their own are skipped with
the reason.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["fill", "loop_disk", "read_only", "shut_down", "small_disk", "unfill"]

_FILLER = "filler"


@contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path | str]:
    """A tmpfs of ``size`` mounted at ``where``; yields the path, or why it cannot be."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield f"cannot mount a small disk here: {mounted.stderr.decode().strip()}"
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Write to the disk until it is full (ENOSPC); ``unfill`` gives the space back."""
    descriptor = os.open(disk / _FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(descriptor, b"\0" * 65536)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
    finally:
        os.close(descriptor)
    # The last few bytes: a write of any size fails from now on.
    descriptor = os.open(disk / _FILLER, os.O_WRONLY | os.O_APPEND)
    try:
        while True:
            os.write(descriptor, b"\0" * 512)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
    finally:
        os.close(descriptor)


def unfill(disk: Path) -> None:
    (disk / _FILLER).unlink()


def read_only(disk: Path, on: bool = True) -> None:
    """Remount the disk read-only (or back to read-write): every write then fails EROFS."""
    mode = "ro" if on else "rw"
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


@contextmanager
def loop_disk(where: Path, size_mib: int = 16) -> Iterator[Path | str]:
    """An ext4 filesystem in an image file, mounted at ``where`` through a loop device."""
    image = where.with_name(where.name + ".img")
    where.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as sparse:
        sparse.truncate(size_mib << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, check=False)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(where)], capture_output=True, check=False
    )
    if not mounted or mounted.returncode != 0:
        why = (made.stderr or (mounted and mounted.stderr) or b"").decode().strip()
        yield f"cannot mount an ext4 image here: {why}"
        image.unlink(missing_ok=True)
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        image.unlink(missing_ok=True)


_EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32), linux/fs/ext4/ext4.h
_EXT4_GOING_FLAGS_NOLOGFLUSH = 2


def shut_down(disk: Path) -> None:
    """Fail the ext4 filesystem at ``disk``: from now on its reads and writes fail (EIO)."""
    descriptor = os.open(disk, os.O_RDONLY)
    try:
        fcntl.ioctl(descriptor, _EXT4_IOC_SHUTDOWN, struct.pack("I", _EXT4_GOING_FLAGS_NOLOGFLUSH))
    finally:
        os.close(descriptor)
