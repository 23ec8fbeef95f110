"""Several meetwarden nodes sharing placement, health and messages through Redis.

The way LiveKit's nodes share a Redis (its pkg/routing: a registry of nodes
with their load, a map from room to node, and pub/sub channels between nodes,
https://github.com/livekit/livekit/tree/master/pkg/routing), with two
differences that a policy server needs: a node's entry expires by itself when
its heartbeat stops, and a meeting's placement is claimed and taken over
atomically (one Lua script each), so that two nodes never both hold a meeting.

- ``connection``: a redis-py asyncio client from a ``--redis-url``.
- ``keys``: the names of every key and channel, under one namespace.
- ``nodes``: what a node says about itself (``NodeInfo``, ``NodeLoad``).
- ``cpu``: the share of a core this process used, for ``NodeLoad``.
- ``registry``: register, heartbeat, list the live nodes, deregister.
- ``placement``: meeting -> node; place, look up, take over, release.
- ``envelope`` and ``bus``: JSON messages to the node holding a meeting, or to all.
- ``attempts``: guessing budgets (sign-in) counted for every node together.

None of it imports the Room runtime or the media plane (an import-linter
contract in pyproject.toml); they will import it.
"""

from __future__ import annotations

from .attempts import SharedBudget
from .bus import Message, MessageBus
from .connection import connect
from .cpu import CpuMeter
from .keys import DEFAULT_NAMESPACE, Keys
from .nodes import NodeInfo, NodeLoad, check_node_id, new_node_id
from .placement import Claim, NoNodeAvailableError, Placement
from .registry import HEARTBEATS_PER_TTL, NodeRegistry

__all__ = [
    "DEFAULT_NAMESPACE",
    "HEARTBEATS_PER_TTL",
    "Claim",
    "CpuMeter",
    "Keys",
    "Message",
    "MessageBus",
    "NoNodeAvailableError",
    "NodeInfo",
    "NodeLoad",
    "NodeRegistry",
    "Placement",
    "SharedBudget",
    "check_node_id",
    "connect",
    "new_node_id",
]
