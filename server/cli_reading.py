"""Reading the files a ``meetwarden policy`` command is given, with errors instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

import typer

from meetwarden.policies.errors import PolicyError, PolicyIssue
from meetwarden.policies.loading import load_policy
from meetwarden.policies.model import Policy

from .i18n import DEFAULT_LANGUAGE, Language, issue_text, say

__all__ = ["issue_line", "policy_or_exit", "read_file"]


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


def issue_line(issue: PolicyIssue, language: Language, *, code: bool = False) -> str:
    """One issue as the CLI prints it: '  pointer: sentence', its code in brackets."""
    line = f"  {issue.pointer or '/'}{say(language, ': ')}{issue_text(issue, language)}"
    return f"{line} [{issue.code}]" if code else line


def policy_or_exit(path: Path, language: Language = DEFAULT_LANGUAGE) -> Policy:
    try:
        return load_policy(read_file(path))
    except PolicyError as error:
        typer.echo(say(language, "{file}: not a valid policy", file=str(path)), err=True)
        for issue in error.issues:
            typer.echo(issue_line(issue, language), err=True)
        raise typer.Exit(2) from None
