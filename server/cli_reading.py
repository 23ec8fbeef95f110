"""Reading the files a ``meetwarden policy`` command is given, with errors instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

import typer

from meetwarden.policies.errors import PolicyError, PolicyIssue
from meetwarden.policies.loading import load_policy
from meetwarden.policies.model import Policy

__all__ = ["policy_or_exit", "read_file"]


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise PolicyError(
            [
                PolicyIssue(
                    "",
                    "unreadable",
                    f"cannot read {path}: {error.strerror}",
                    params={"path": str(path), "problem": str(error.strerror)},
                )
            ]
        ) from None


def policy_or_exit(path: Path) -> Policy:
    try:
        return load_policy(read_file(path))
    except PolicyError as error:
        typer.echo(f"{path}: not a valid policy", err=True)
        for issue in error.issues:
            typer.echo(f"  {issue.pointer or '/'}: {issue.message}", err=True)
        raise typer.Exit(2) from None
