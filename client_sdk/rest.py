"""The host's REST calls: create a meeting, policy, invites, audit log, end."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Final

import httpx

from .errors import ApiError

__all__ = ["API_KEY_ENV", "CreatedMeeting", "HostAPI", "Invite"]

API_KEY_ENV: Final = "MEETWARDEN_API_KEY"
"""Where ``create_meeting`` finds the operator API key when none is given (like LIVEKIT_API_KEY)."""


@dataclass(frozen=True)
class CreatedMeeting:
    """A new meeting: share ``join_url``; keep ``host_token`` secret (it opens host powers)."""

    meeting_id: str
    join_url: str
    host_token: str
    policy_revision: int


@dataclass(frozen=True)
class Invite:
    """An invite: send ``join_url`` (the token rides in its fragment); revoke by ``invite_id``."""

    invite_id: str
    invite_token: str
    join_url: str
    role: str
    expires_at: float


async def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text}
        raise ApiError(response.status_code, problem)
    if response.status_code == 204:
        return None
    if response.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        return response.json()
    return response.text


class HostAPI:
    """REST calls for one meeting, authorised by its host token."""

    def __init__(self, server: str, meeting_id: str, host_token: str, *, timeout: float = 30.0):
        self.server = server.rstrip("/")
        self.meeting_id = meeting_id
        self._base = f"{self.server}/api/meetings/{meeting_id}"
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {host_token}"}, timeout=timeout
        )

    @staticmethod
    async def create_meeting(
        server: str,
        policy: dict[str, Any],
        password: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> CreatedMeeting:
        """Creates a meeting with an operator API key (``meetwarden keys create``).

        ``api_key`` defaults to the ``MEETWARDEN_API_KEY`` environment variable. A
        missing, unknown or revoked key raises ApiError 401 (``not_signed_in`` or
        ``invalid_credential``); an invalid policy raises ApiError 422 with
        ``errors`` (pointers).
        """
        body: dict[str, Any] = {"policy": policy}
        if password is not None:
            body["password"] = password
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(timeout=timeout, headers=headers) as http:
            data = await _checked(await http.post(f"{server.rstrip('/')}/api/meetings", json=body))
        return CreatedMeeting(**data)

    async def meeting(self) -> dict[str, Any]:
        """The meeting: name, created_at, ended, locked, policy_revision, participants, waiting."""
        return await _checked(await self._http.get(self._base))  # type: ignore[no-any-return]

    async def policy(self) -> dict[str, Any]:
        """The policy in force: ``{"revision": n, "policy": {...}}``."""
        return await _checked(await self._http.get(self._base + "/policy"))  # type: ignore[no-any-return]

    async def policy_versions(self) -> list[dict[str, Any]]:
        """Every policy the meeting has had, oldest first, with revision, sha256 and who set it."""
        return await _checked(await self._http.get(self._base + "/policy/versions"))  # type: ignore[no-any-return]

    async def replace_policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        """The decision; an invalid policy raises ApiError (the old one stays in force)."""
        return await _checked(await self._http.put(self._base + "/policy", json=policy))  # type: ignore[no-any-return]

    async def create_invite(self, role: str = "participant", expires_minutes: int = 1440) -> Invite:
        """An invite (``participant`` or ``cohost``); its ``join_url`` carries the token.

        With ``invited`` in the policy's ``entry.waiting_room.bypass``, its holder skips
        the waiting room; a co-host invite always does.
        """
        data = await _checked(
            await self._http.post(
                self._base + "/invites", json={"role": role, "expires_minutes": expires_minutes}
            )
        )
        return Invite(**data)

    async def revoke_invite(self, invite_id: str) -> None:
        """Revokes an invite: its link stops working (a join with it gets ``join_failed``)."""
        await _checked(await self._http.delete(self._base + f"/invites/{invite_id}"))

    async def audit(self, **filters: Any) -> list[dict[str, Any]]:
        """Decisions, oldest first; filters: participant, actor, reason, event_type, allowed..."""
        params = {k: v for k, v in filters.items() if v is not None}
        data = await _checked(await self._http.get(self._base + "/audit", params=params))
        return data["entries"]  # type: ignore[no-any-return]

    async def export_audit(self, **filters: Any) -> str:
        """The audit log as JSON Lines that ``meetwarden policy simulate`` replays."""
        params = {k: v for k, v in filters.items() if v is not None}
        return await _checked(await self._http.get(self._base + "/audit.jsonl", params=params))  # type: ignore[no-any-return]

    async def end_meeting(self) -> dict[str, Any]:
        """Ends the meeting for everyone; the decision (allowed, reason, rule, message)."""
        return await _checked(await self._http.post(self._base + "/end"))  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Closes the HTTP connection pool (or use ``async with HostAPI(...)``)."""
        await self._http.aclose()

    async def __aenter__(self) -> HostAPI:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
