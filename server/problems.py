"""HTTP errors as ``application/problem+json`` (RFC 9457), with reason code and rule.

``title`` and ``detail`` are English message ids (``detail`` a template filled from
``params``); the answer carries them in the language of the request's
``Accept-Language``, with ``params`` beside the reason for clients that write their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from meetwarden.policies.effects import ParamValue

from .i18n import DEFAULT_LANGUAGE, Language, say

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
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.reason, self.rule, self.extra = reason, rule, extra
        self.params = dict(params or {})
        self.written = written
        """``detail`` is written already, in the reader's language: sent as it is."""
        self.headers = headers or {}


def problem_response(error: ProblemError, language: Language = DEFAULT_LANGUAGE) -> JSONResponse:
    body = {
        "type": f"https://meetwarden.example/problems/{error.reason}",
        "title": say(language, error.title),
        "status": error.status,
        "detail": error.detail if error.written else say(language, error.detail, **error.params),
        "reason": error.reason,
        "rule": error.rule,
        **({"params": error.params} if error.params else {}),
        **error.extra,
    }
    return JSONResponse(
        body,
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers or None,
    )
