"""Exceptions a bot sees. Refusals carry the reason code, the rule pointer and the sentence."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "DismissedError",
    "JoinRefusedError",
    "MeetwardenError",
    "PolicyRefusedError",
    "ProtocolError",
]


class MeetwardenError(Exception):
    """Anything the SDK raises."""


class PolicyRefusedError(MeetwardenError):
    """The meeting's policy refused a request."""

    def __init__(
        self,
        reason: str,
        rule: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        *,
        decision_id: str | None = None,
    ):
        super().__init__(f"{message} [{reason} {rule}]".strip())
        self.reason, self.rule, self.message = reason, rule, message
        self.errors = errors or []
        self.decision_id = decision_id
        """The decision's id in the meeting's audit log: the host sees the same entry."""


class JoinRefusedError(PolicyRefusedError):
    """The join was refused (the socket is closed)."""

    def __init__(
        self,
        reason: str,
        rule: str,
        message: str,
        retry_after: float | None = None,
        *,
        decision_id: str | None = None,
    ):
        super().__init__(reason, rule, message, decision_id=decision_id)
        self.retry_after = retry_after


class DismissedError(MeetwardenError):
    """The participant is out of the meeting: denied, removed, banned, or the meeting ended."""

    def __init__(self, why: str, reason: str, rule: str, message: str):
        super().__init__(f"{why}: {message} [{reason}]")
        self.why, self.reason, self.rule, self.message = why, reason, rule, message


class ProtocolError(MeetwardenError):
    """The server could not take a message (it never reached the policy engine)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class ApiError(MeetwardenError):
    """A REST call failed; ``problem`` is the server's problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.reason = str(problem.get("reason", ""))
        self.rule = str(problem.get("rule", ""))
        self.detail = str(problem.get("detail", ""))
        self.errors: list[dict[str, str]] = list(problem.get("errors", []))
        super().__init__(f"HTTP {status}: {self.detail} [{self.reason}]")
