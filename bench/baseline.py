"""A past commit of meetwarden, runnable beside the current tree for side-by-side benches.

``checkout(ref)`` extracts the commit with ``git archive`` into a temporary
directory (removed when the process exits) and lays out a folder tree in which
``meetwarden.policies``, ``meetwarden.server`` and ``meetwarden.client_sdk`` are
that commit's folders. A process started with ``PYTHONPATH`` set to it imports
the past code instead of the editable install (the import path is searched
before the install's finder), from the same virtual environment. The working
tree is never touched and no git worktree is made.

Packages the past commit does not have still resolve to the current tree (the
install's finder answers for them): ``meetwarden.protocol``, for one, did not
exist before the protocol moved out of the SDK. The past code never imports it.

    from baseline import checkout
    source, pythonpath = checkout("dc682de")
    subprocess.run([sys.executable, source / "bench/media_server.py", ...],
                   env=environment(pythonpath))
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["checkout", "describe", "environment"]

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGES = ("policies", "server", "client_sdk")
"""The folders installed as meetwarden.<name> (pyproject.toml, [tool.setuptools.package-dir])."""


def describe(ref: str) -> str:
    """``<short hash> <subject>`` of a commit, for the benches' headers."""
    done = subprocess.run(
        ["git", "-C", str(REPOSITORY), "log", "-1", "--format=%h %s", ref],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def environment(pythonpath: str | None) -> dict[str, str]:
    """The environment for a process that runs the past code (None: the current code)."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def checkout(ref: str) -> tuple[Path, str]:
    """Extracts ``ref``; returns (its source folder, the PYTHONPATH that imports it)."""
    root = Path(tempfile.mkdtemp(prefix="mw-baseline-"))
    atexit.register(shutil.rmtree, root, True)
    source = root / "src"
    source.mkdir()
    archive = subprocess.Popen(
        ["git", "-C", str(REPOSITORY), "archive", ref], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(source)], stdin=archive.stdout, check=True)
    assert archive.stdout is not None
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {ref} failed")
    tree = root / "tree" / "meetwarden"
    tree.mkdir(parents=True)
    for package in PACKAGES:
        (tree / package).symlink_to(source / package)
    pythonpath = str(root / "tree")
    _check(pythonpath, tree)
    return source, pythonpath


def _check(pythonpath: str, tree: Path) -> None:
    """Fails loudly if the past code would not be the code imported (a bench of the
    current tree twice would print ratios of 1.0 and look like good news)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util as u; print(u.find_spec('meetwarden.server').origin)",
        ],
        capture_output=True,
        text=True,
        env=environment(pythonpath),
        check=True,
    )
    origin = Path(done.stdout.strip())
    if not origin.is_relative_to(tree):
        raise RuntimeError(f"PYTHONPATH={pythonpath} still imports {origin}")
