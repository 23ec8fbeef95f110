"""HTTP errors as ``application/problem+json`` (RFC 9457), with reason code and rule."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

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
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.reason, self.rule, self.extra = reason, rule, extra
        self.headers = headers or {}


def problem_response(error: ProblemError) -> JSONResponse:
    body = {
        "type": f"https://meetwarden.example/problems/{error.reason}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "reason": error.reason,
        "rule": error.rule,
        **error.extra,
    }
    return JSONResponse(
        body,
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers or None,
    )
