"""Exceptions a bot sees: every one is a MeetwardenError with a sentence and its data.

Each carries a stable ``reason`` code and its ``params`` (a dict), so that a
bot can write its own sentence (in its own language) instead of parsing
``str(error)``: for a refusal from the server, ``params`` holds the parameters the
server wrote its sentence from (``{"kind": "screen"}``, ``{"max_bytes": 10485760}``),
the same whatever language the bot asked for, beside the refusal's ``rule`` and
``message``. Where Python has a familiar exception for the same thing, the
SDK's is also one of those (``MeetwardenTimeoutError`` is a ``TimeoutError``,
``InvalidArgumentError`` a ``ValueError``, ``ServerUnreachableError`` and
``ConnectionClosedError`` are ``ConnectionError``), so ``except TimeoutError``
keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ApiError",
    "ConnectionClosedError",
    "DismissedError",
    "InvalidArgumentError",
    "JoinRefusedError",
    "MeetwardenError",
    "MeetwardenTimeoutError",
    "PolicyRefusedError",
    "ProtocolError",
    "ServerUnreachableError",
    "describe_errors",
]

_LISTED_ERRORS = 3
"""How many of a refused policy's errors ``str(error)`` lists before "and N more"."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe_errors(title: str, errors: Sequence[Mapping[str, Any]]) -> str:
    """'Invalid policy (2 errors): /a: must be ...; /b: ...', the first few, then 'and N more'."""
    shown = [
        f"{error.get('pointer') or '/'}: {error.get('message') or error.get('code', '')}"
        for error in errors[:_LISTED_ERRORS]
    ]
    text = f"{title} ({_plural(len(errors), 'error')}): " + "; ".join(shown)
    if len(errors) > _LISTED_ERRORS:
        text += f"; and {len(errors) - _LISTED_ERRORS} more"
    return text.rstrip(".") + "."


class MeetwardenError(Exception):
    """Anything the SDK raises: ``str(error)`` is a sentence, ``reason`` and ``params`` the data."""

    reason: str
    params: dict[str, Any]

    def __init__(self, sentence: str, *, reason: str, params: Mapping[str, Any] | None = None):
        super().__init__(sentence)
        self.reason = reason
        self.params = dict(params or {})


_ERRORS_TITLES = {"policy_unsupported": "This server cannot apply the policy"}
"""What a refusal's list of errors is, by reason; otherwise the policy is invalid."""


class PolicyRefusedError(MeetwardenError):
    """The meeting's policy refused a request (``reason``, ``rule``, ``message``).

    ``params`` holds the server's parameters of the sentence (``message`` is that
    sentence in the language the bot joined with), then ``rule``, ``message`` and
    ``errors``."""

    def __init__(
        self,
        reason: str,
        rule: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        *,
        decision_id: str | None = None,
        params: Mapping[str, Any] | None = None,
    ):
        self.rule, self.message = rule, message
        self.errors = errors or []
        self.decision_id = decision_id
        """The decision's id in the meeting's audit log: the host sees the same entry."""
        sentence = message
        if self.errors:
            title = _ERRORS_TITLES.get(reason, "Invalid policy")
            sentence = describe_errors(title, self.errors)
        super().__init__(
            f"{sentence} [{reason} {rule}]".strip(),
            reason=reason,
            params={**(params or {}), "rule": rule, "message": message, "errors": self.errors},
        )


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
        params: Mapping[str, Any] | None = None,
    ):
        super().__init__(reason, rule, message, decision_id=decision_id, params=params)
        self.retry_after = retry_after
        if retry_after is not None:
            self.params["retry_after"] = retry_after


class DismissedError(MeetwardenError):
    """The participant is out of the meeting: denied, removed, banned, or the meeting ended."""

    def __init__(
        self,
        why: str,
        reason: str,
        rule: str,
        message: str,
        params: Mapping[str, Any] | None = None,
    ):
        self.why, self.rule, self.message = why, rule, message
        super().__init__(
            f"{why}: {message} [{reason}]",
            reason=reason,
            params={**(params or {}), "why": why, "rule": rule, "message": message},
        )


class ProtocolError(MeetwardenError):
    """The server could not take a message (it never reached the policy engine)."""

    def __init__(self, code: str, message: str, params: Mapping[str, Any] | None = None):
        self.code, self.message = code, message
        super().__init__(
            f"{code}: {message}", reason=code, params={**(params or {}), "message": message}
        )


class ApiError(MeetwardenError):
    """A REST call failed; ``problem`` is the server's problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.rule = str(problem.get("rule", ""))
        self.detail = str(problem.get("detail", ""))
        self.errors: list[dict[str, str]] = list(problem.get("errors", []))
        sentence = self.detail
        if self.errors:  # the server's detail only counts them; a bot author needs each one
            sentence = describe_errors(str(problem.get("title") or "Refused"), self.errors)
        reason = str(problem.get("reason", ""))
        super().__init__(
            f"HTTP {status}: {sentence} [{reason}]",
            reason=reason,
            params={
                "status": status,
                "rule": self.rule,
                "detail": self.detail,
                "errors": self.errors,
            },
        )


class ServerUnreachableError(MeetwardenError, ConnectionError):
    """No connection to the server: refused, unknown host name, unreachable, TLS failure."""

    def __init__(self, url: str, cause: BaseException):
        self.url = url
        what = f"{type(cause).__name__}: {cause}".rstrip(": ")
        super().__init__(
            f"Cannot reach the meetwarden server at {url} ({what}). Check the address and "
            "that the server is running (`meetwarden serve`), then try again.",
            reason="server_unreachable",
            params={"url": url, "cause": what},
        )


class ConnectionClosedError(MeetwardenError, ConnectionError):
    """The meeting's connection closed while a request or a wait needed it."""

    def __init__(self, close_code: int | None, close_reason: str = ""):
        self.close_code, self.close_reason = close_code, close_reason
        because = f": {close_reason}" if close_reason else ""
        super().__init__(
            f"The connection to the meeting closed (code {close_code}{because}). "
            "Within the policy's reconnect_seconds `await client.reconnect()` resumes your place.",
            reason="connection_closed",
            params={"close_code": close_code, "close_reason": close_reason},
        )


class MeetwardenTimeoutError(MeetwardenError, TimeoutError):
    """Nothing came within the time given; still a ``TimeoutError`` for older code."""

    def __init__(self, waiting_for: str, seconds: float):
        self.waiting_for, self.seconds = waiting_for, seconds
        super().__init__(
            f"Timed out after {seconds:g} s waiting for {waiting_for}. Give a longer "
            "`timeout=`, or check that the server and the meeting are still there.",
            reason="timed_out",
            params={"waiting_for": waiting_for, "seconds": seconds},
        )


class InvalidArgumentError(MeetwardenError, ValueError):
    """An argument the SDK cannot send: ``argument``, the ``value`` given, valid ``choices``."""

    def __init__(
        self,
        argument: str,
        value: Any,
        problem: str,
        choices: Sequence[str] = (),
    ):
        self.argument, self.value, self.choices = argument, value, list(choices)
        sentence = f"{argument}={value!r}: {problem}"
        if choices:
            sentence += f"; choose one of {', '.join(repr(c) for c in choices)}"
        super().__init__(
            sentence + ".",
            reason="invalid_argument",
            params={
                "argument": argument,
                "value": value,
                "problem": problem,
                "choices": list(choices),
            },
        )
