"""HTTP errors as ``application/problem+json`` (RFC 9457), with reason code and rule.

``title`` and ``detail`` are English message ids (``detail`` a template filled from
``params``); the answer carries them in the language of the request's
``Accept-Language``, with ``params`` beside the reason for clients that write their own.
A refused policy's ``issues`` go out as ``errors``, each sentence in that language too
(its ``key`` and ``params`` the same in every language), and the ``{problems}`` of
the detail lists the first few in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse

from meetwarden.policies.effects import ParamValue
from meetwarden.policies.errors import PolicyIssue

from .i18n import DEFAULT_LANGUAGE, Language, issue_json, issues_listed, say

__all__ = ["ProblemError", "problem_response"]


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        reason: str = "invalid_request",
        rule: str = "",
        headers: dict[str, str] | None = None,
        params: Mapping[str, ParamValue] | None = None,
        written: bool = False,
        issues: Sequence[PolicyIssue] = (),
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.reason, self.rule, self.extra = reason, rule, extra
        self.params = dict(params or {})
        self.written = written
        self.issues = tuple(issues)
        """A refused policy's issues: ``errors``, and the ``{problems}`` of ``detail``."""
        """``detail`` is written already, in the reader's language: sent as it is."""
        self.headers = headers or {}


def problem_response(error: ProblemError, language: Language = DEFAULT_LANGUAGE) -> JSONResponse:
    filled: dict[str, Any] = dict(error.params)
    if error.issues:
        filled["problems"] = issues_listed(error.issues, language)
    body = {
        "type": f"https://meetwarden.example/problems/{error.reason}",
        "title": say(language, error.title),
        "status": error.status,
        "detail": error.detail if error.written else say(language, error.detail, **filled),
        "reason": error.reason,
        "rule": error.rule,
        **({"params": error.params} if error.params else {}),
        **(
            {"errors": [issue_json(issue, language) for issue in error.issues]}
            if error.issues
            else {}
        ),
        **error.extra,
    }
    return JSONResponse(
        body,
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers or None,
    )
