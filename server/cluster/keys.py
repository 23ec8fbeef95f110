"""The names of the cluster's Redis keys and pub/sub channels.

Every name starts with the namespace in braces, a Redis Cluster hash tag
(https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags):
all of one deployment's keys then live in one slot, which the Lua scripts of
``placement`` and ``registry`` need, since they read node entries they find
while running. Two deployments (or two tests) on one Redis use two namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_NAMESPACE", "Keys"]

DEFAULT_NAMESPACE = "meetwarden"


@dataclass(frozen=True)
class Keys:
    namespace: str = DEFAULT_NAMESPACE

    @property
    def prefix(self) -> str:
        """What every key starts with; the scripts build node keys from it."""
        return "{" + self.namespace + "}:"

    @property
    def nodes(self) -> str:
        """A set of the ids of the nodes that registered (live or not yet pruned)."""
        return self.prefix + "nodes"

    def node(self, node_id: str) -> str:
        """A node's entry (JSON ``NodeInfo``), which expires unless its heartbeat renews it."""
        return self.prefix + "node:" + node_id

    def node_meetings(self, node_id: str) -> str:
        """A set of the meeting ids placed on a node."""
        return self.prefix + "node:" + node_id + ":meetings"

    def meeting(self, meeting_id: str) -> str:
        """A meeting's claim: a hash with the node holding it and the claim's generation."""
        return self.prefix + "meeting:" + meeting_id

    @property
    def generations(self) -> str:
        """A counter that numbers every claim, so a newer claim always has a larger number."""
        return self.prefix + "claims"

    def inbox(self, node_id: str) -> str:
        """The pub/sub channel a node listens on for messages sent to it."""
        return self.prefix + "inbox:" + node_id

    def attempts(self, budget: str) -> str:
        """What a guessing budget's keys start with (a sorted set of attempt times each)."""
        return self.prefix + "attempts:" + budget + ":"

    @property
    def broadcast(self) -> str:
        """The pub/sub channel every node listens on."""
        return self.prefix + "broadcast"
