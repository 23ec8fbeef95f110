"""What a node tells the others about itself: where it is, whether it drains, its load.

Stored as one JSON object per node (``Keys.node``); the placement script reads
the fields ``draining``, ``rooms`` and ``participants`` and ``cpu`` by name, so
they are part of the format.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NodeInfo", "NodeLoad", "check_node_id", "new_node_id"]

_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def new_node_id() -> str:
    """A random node id, for a node that was not given one."""
    return "node-" + secrets.token_hex(6)


def check_node_id(value: str) -> str:
    """The id, if it can name a node: letters, digits, '.', '_' and '-', up to 64."""
    if not _NODE_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a node id: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True)
class NodeLoad:
    """How busy a node is: the meetings it holds, the people in them, its CPU (1.0 = a core)."""

    rooms: int = 0
    participants: int = 0
    cpu: float = 0.0


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    public_url: str | None
    """The address people use to reach this node (join links, redirects)."""
    address: str | None
    """The address other nodes reach this node at (cascading media, forwarded requests)."""
    draining: bool = False
    """A draining node gets no new meetings and keeps those it holds until they end."""
    load: NodeLoad = field(default_factory=NodeLoad)
    updated_at: float = 0.0
    """Unix time of the heartbeat that wrote this entry."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.node_id,
                "public_url": self.public_url,
                "address": self.address,
                "draining": self.draining,
                "rooms": self.load.rooms,
                "participants": self.load.participants,
                "cpu": self.load.cpu,
                "updated_at": self.updated_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> NodeInfo:
        """The entry, or ValueError if ``text`` is not one."""
        try:
            data: Any = json.loads(text)
            return cls(
                node_id=str(data["id"]),
                public_url=_optional(data["public_url"]),
                address=_optional(data["address"]),
                draining=bool(data["draining"]),
                load=NodeLoad(int(data["rooms"]), int(data["participants"]), float(data["cpu"])),
                updated_at=float(data["updated_at"]),
            )
        except (TypeError, KeyError, ValueError) as error:
            raise ValueError(f"not a node entry: {error}") from None


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
