"""A host's actions over the meeting's socket: admit, remove, mute, grant, lock, end.

They are requests like a participant's (``requesting.py``): the server decides
by role, so anyone may call them and a participant who is not a host or a
co-host is refused with ``not_a_host``.
"""

from __future__ import annotations

from typing import Any

from meetwarden import protocol as wire

from .arguments import build
from .client_state import ClientState

__all__ = ["HostActions"]


class HostActions(ClientState):
    """Host actions (refused with not_a_host unless you are a host or co-host)."""

    async def admit(self, participant: str) -> wire.Result:
        """Lets a waiting participant in (hosts and co-hosts; else ``not_a_host``)."""
        return await self.request(build(wire.Admit, participant=participant))

    async def deny(self, participant: str) -> wire.Result:
        """Turns a waiting participant away; they get a Denied event and are disconnected."""
        return await self.request(build(wire.Deny, participant=participant))

    async def admit_all(self) -> wire.Result:
        """Lets everyone who is waiting in, in one request."""
        return await self.request(build(wire.AdmitAll))

    async def remove(self, participant: str) -> wire.Result:
        """Removes someone from the meeting; whether they may rejoin is the policy's
        ``removal.rejoin`` (``never`` by default: a ban on their device and name)."""
        return await self.request(build(wire.Remove, participant=participant))

    async def ban(self, participant: str) -> wire.Result:
        """Removes someone and bans them from rejoining, whatever ``removal.rejoin`` says."""
        return await self.request(build(wire.Ban, participant=participant))

    async def lock(self, locked: bool = True) -> wire.Result:
        """Locks the meeting (nobody new joins, nobody waiting is admitted) or unlocks it."""
        return await self.request(build(wire.Lock, locked=locked))

    async def mute(self, participant: str) -> wire.Result:
        """Mutes a participant and takes back any permission to unmute."""
        return await self.request(build(wire.Mute, participant=participant))

    async def mute_all(self) -> wire.Result:
        """Mutes everyone except hosts and co-hosts."""
        return await self.request(build(wire.MuteAll))

    async def ask_to_unmute(self, participant: str) -> wire.Result:
        """Lets a participant unmute and asks them to; nobody can be unmuted by force."""
        return await self.request(build(wire.AskToUnmute, participant=participant))

    async def grant(
        self,
        participant: str,
        kind: wire.ShareKind = "screen",
        minutes: int | None = None,
        seconds: int | None = None,
    ) -> wire.Result:
        """Lets a participant share until the grant expires (the policy's minutes by default)."""
        grant = build(
            wire.Grant, participant=participant, kind=kind, minutes=minutes, seconds=seconds
        )
        return await self.request(grant)

    async def revoke(self, participant: str, kind: wire.ShareKind = "screen") -> wire.Result:
        """Takes back a participant's grant to share (``no_grant`` if they had none)."""
        return await self.request(build(wire.Revoke, participant=participant, kind=kind))

    async def set_role(self, participant: str, role: str) -> wire.Result:
        """Makes a participant a ``cohost`` or a ``participant`` again (the host only)."""
        return await self.request(build(wire.SetRole, participant=participant, role=role))

    async def update_policy(self, policy: dict[str, Any]) -> wire.Result:
        """Replaces the policy; a bad one raises PolicyRefusedError with ``errors``."""
        return await self.request(build(wire.UpdatePolicy, policy=policy))

    async def end_meeting(self) -> wire.Result:
        """Ends the meeting for everyone (the host only); each gets a MeetingEnded event."""
        return await self.request(build(wire.EndMeeting))
