"""The host's REST calls: create a meeting, policy, invites, audit log, end."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx

from .errors import (
    ApiError,
    InvalidArgumentError,
    MeetwardenTimeoutError,
    ServerUnreachableError,
)

__all__ = ["API_KEY_ENV", "CreatedMeeting", "HostAPI", "Invite", "MeetingStatus"]

MAX_REDIRECTS: Final = 4
"""How many 307s a request follows (another worker, then the meeting's node)."""

API_KEY_ENV: Final = "MEETWARDEN_API_KEY"
"""Where ``create_meeting`` finds the operator API key when none is given (like LIVEKIT_API_KEY)."""


T = TypeVar("T")


def _from(kind: type[T], data: Any) -> T:
    """A dataclass from the server's JSON; fields a newer server adds are left out."""
    names = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    return kind(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class CreatedMeeting:
    """A new meeting: share ``join_url``; keep ``host_token`` secret (it opens host powers).

    The host token is left out of the repr, so that logging the meeting leaks nothing.
    """

    meeting_id: str
    join_url: str
    host_token: str = field(repr=False)
    policy_revision: int


@dataclass(frozen=True)
class Invite:
    """An invite: send ``join_url`` (the token rides in its fragment); revoke by ``invite_id``.

    The repr shows neither the token nor the link that carries it.
    """

    invite_id: str
    invite_token: str = field(repr=False)
    join_url: str = field(repr=False)
    role: str
    expires_at: float


@dataclass(frozen=True)
class MeetingStatus(Mapping[str, Any]):
    """What ``HostAPI.meeting()`` returns. Also a read-only mapping (``status["locked"]``),
    as the dict earlier versions returned."""

    meeting_id: str
    name: str
    created_at: float
    """Unix time."""
    ended: bool
    locked: bool
    policy_revision: int
    participants: int
    """How many people are admitted now."""
    waiting: int
    """How many are in the waiting room."""

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


def _checked_server(server: str) -> str:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgumentError("server", server, "give the server's base URL, http(s)://host")
    return server.rstrip("/")


async def _send(http: httpx.AsyncClient, server: str, method: str, url: str, **kw: Any) -> Any:
    """The answer's JSON (or text); a failure is always a MeetwardenError."""
    return await _checked(await _request(http, server, method, url, **kw))


async def _request(
    http: httpx.AsyncClient, server: str, method: str, url: str, **kw: Any
) -> httpx.Response:
    """The answer, after following the server's 307s: to another worker (the same URL
    on a new connection) or to the node that holds the meeting. Followed here, not by
    httpx, which drops the Authorization header on the way to another node."""
    for _ in range(MAX_REDIRECTS):
        try:
            response = await http.request(method, url, **kw)
        except httpx.TimeoutException:
            seconds = http.timeout.read or http.timeout.connect or 0.0
            raise MeetwardenTimeoutError(f"{server} to answer {method} {url}", seconds) from None
        except httpx.TransportError as error:
            raise ServerUnreachableError(server, error) from error
        location = response.headers.get("location", "")
        if response.status_code != 307 or urlsplit(location).scheme not in ("http", "https"):
            return response
        url = location
    raise ApiError(508, {"detail": f"{server} sent the request on more than {MAX_REDIRECTS} times"})


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
        self.server = _checked_server(server)
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
        base = _checked_server(server)
        async with httpx.AsyncClient(timeout=timeout, headers=headers) as http:
            data = await _send(http, base, "POST", f"{base}/api/meetings", json=body)
        return _from(CreatedMeeting, data)

    async def _call(self, method: str, path: str = "", **kw: Any) -> Any:
        return await _send(self._http, self.server, method, self._base + path, **kw)

    async def meeting(self) -> MeetingStatus:
        """The meeting: name, created_at, ended, locked, policy_revision, participants, waiting."""
        return _from(MeetingStatus, await self._call("GET"))

    async def policy(self) -> dict[str, Any]:
        """The policy in force: ``{"revision": n, "policy": {...}}``."""
        return await self._call("GET", "/policy")  # type: ignore[no-any-return]

    async def policy_versions(self) -> list[dict[str, Any]]:
        """Every policy the meeting has had, oldest first, with revision, sha256 and who set it."""
        return await self._call("GET", "/policy/versions")  # type: ignore[no-any-return]

    async def replace_policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        """The decision; an invalid policy raises ApiError (the old one stays in force)."""
        return await self._call("PUT", "/policy", json=policy)  # type: ignore[no-any-return]

    async def create_invite(self, role: str = "participant", expires_minutes: int = 1440) -> Invite:
        """An invite (``participant`` or ``cohost``); its ``join_url`` carries the token.

        With ``invited`` in the policy's ``entry.waiting_room.bypass``, its holder skips
        the waiting room; a co-host invite always does.
        """
        body = {"role": role, "expires_minutes": expires_minutes}
        return _from(Invite, await self._call("POST", "/invites", json=body))

    async def revoke_invite(self, invite_id: str) -> None:
        """Revokes an invite: its link stops working (a join with it gets ``join_failed``)."""
        await self._call("DELETE", f"/invites/{invite_id}")

    async def audit(self, **filters: Any) -> list[dict[str, Any]]:
        """Decisions, oldest first; filters: participant, actor, reason, event_type, allowed..."""
        params = {k: v for k, v in filters.items() if v is not None}
        data = await self._call("GET", "/audit", params=params)
        return data["entries"]  # type: ignore[no-any-return]

    async def export_audit(self, **filters: Any) -> str:
        """The audit log as JSON Lines that ``meetwarden policy simulate`` replays."""
        params = {k: v for k, v in filters.items() if v is not None}
        return await self._call("GET", "/audit.jsonl", params=params)  # type: ignore[no-any-return]

    async def end_meeting(self) -> dict[str, Any]:
        """Ends the meeting for everyone; the decision (allowed, reason, rule, message)."""
        return await self._call("POST", "/end")  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Closes the HTTP connection pool (or use ``async with HostAPI(...)``)."""
        await self._http.aclose()

    async def __aenter__(self) -> HostAPI:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
