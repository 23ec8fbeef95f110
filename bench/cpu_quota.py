"""A CPU quota for a process tree, so that a bench can give a server a set number of cores.

On a machine whose cores the load generator shares with the server, "N workers
on N cores" cannot be measured directly: the generator takes part of every
core. A quota gives the server's whole process tree exactly ``cores`` CPUs'
worth of time per period (the kernel's CFS bandwidth control,
Documentation/scheduler/sched-bwc.rst), wherever the generator runs, so one
worker with ``q`` cores and N workers with ``N * q`` compare what the worker
architecture does with the cores it is given. Needs root and the cgroup ``cpu``
controller (v1 at /sys/fs/cgroup/cpu, or v2 at /sys/fs/cgroup with ``cpu`` in
cgroup.controllers).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuQuota", "QuotaUnavailableError"]

PERIOD_US = 100_000
V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")


class QuotaUnavailableError(RuntimeError):
    """This machine cannot set a CPU quota for the bench (not root, or no cpu controller)."""


@dataclass
class CpuQuota:
    """One cgroup with a CPU quota; processes started with :meth:`enter` as their
    ``preexec_fn`` (and all their children) share it."""

    cores: float
    name: str
    parent: CpuQuota | None = None
    """A group inside another (its quota is within the parent's): one worker's, say."""

    def __post_init__(self) -> None:
        if self.cores <= 0:
            raise ValueError(f"a CPU quota needs a positive number of cores, not {self.cores}")
        quota = max(1000, round(self.cores * PERIOD_US))
        if (V1 / "cpu.cfs_quota_us").exists():
            self.path = (self.parent.path if self.parent else V1) / self.name
            self._make()
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        elif "cpu" in _read(V2 / "cgroup.controllers").split():
            self.path = (self.parent.path if self.parent else V2) / self.name
            self._make()
            if self.parent is not None:  # v2: a parent hands the controller down explicitly
                (self.parent.path / "cgroup.subtree_control").write_text("+cpu")
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            raise QuotaUnavailableError("no cgroup cpu controller at /sys/fs/cgroup")

    def _make(self) -> None:
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as error:
            raise QuotaUnavailableError(
                f"cannot make the cgroup {self.path} ({error.strerror}); the quota needs root"
            ) from error

    def enter(self) -> None:
        """Move the calling process into the cgroup (a ``preexec_fn``: runs in the child)."""
        self.add(os.getpid())

    def add(self, pid: int) -> None:
        """Move a running process (all its threads) into the cgroup."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def throttled_seconds(self) -> float:
        """How long the cgroup's processes have been held back by the quota so far."""
        for line in _read(self.path / "cpu.stat").splitlines():
            key, _, value = line.partition(" ")
            if key == "throttled_time":  # v1: nanoseconds
                return int(value) / 1e9
            if key == "throttled_usec":  # v2: microseconds
                return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        """Remove the cgroup (once every process in it has ended)."""
        # A process still in it: the kernel refuses, and the empty group is harmless.
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
