"""The JSON envelope of a message between nodes, and how a received one is checked.

On the wire: ``{"from": node id, "meeting": meeting id or null, "body": {...}}``.
A received payload that is not such an object (not JSON, not an object, a body
that is not an object, a sender that is not a string) is refused with the
reason, for the listener to log and drop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["BadMessageError", "Message", "decode", "encode"]


class BadMessageError(ValueError):
    """A payload that is not a message; its text says why."""


@dataclass(frozen=True)
class Message:
    sender: str
    """The node that sent it."""
    body: dict[str, Any]
    meeting_id: str | None = None
    """The meeting it concerns, when it was sent to the node holding a meeting."""
    broadcast: bool = False
    """Whether it was sent to every node rather than to this one."""


def encode(sender: str, body: dict[str, Any], meeting_id: str | None = None) -> str:
    if not isinstance(body, dict):
        raise TypeError("a message body is a JSON object (a dict)")
    return json.dumps({"from": sender, "meeting": meeting_id, "body": body}, separators=(",", ":"))


def decode(payload: str | bytes, *, broadcast: bool) -> Message:
    """The message in ``payload``, or BadMessageError."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadMessageError(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadMessageError(f"not a JSON object but {type(data).__name__}")
    sender, body, meeting = data.get("from"), data.get("body"), data.get("meeting")
    if not isinstance(sender, str):
        raise BadMessageError("no sender ('from' is not a string)")
    if not isinstance(body, dict):
        raise BadMessageError("its 'body' is not a JSON object")
    if meeting is not None and not isinstance(meeting, str):
        raise BadMessageError("its 'meeting' is neither a string nor null")
    return Message(sender, body, meeting, broadcast)
