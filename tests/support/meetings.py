"""Short ways to set up a meeting with a host in it, for end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meetwarden.client_sdk import HostAPI, MeetingClient, WaitingListChanged

from .server import api_key_for

__all__ = ["Hosted", "admit", "admit_named", "hosted_meeting"]


@dataclass
class Hosted:
    join_url: str
    meeting_id: str
    host_token: str
    host: MeetingClient
    api: HostAPI

    async def close(self) -> None:
        await self.host.close()
        await self.api.close()


async def hosted_meeting(
    server_url: str,
    policy: dict[str, Any],
    password: str | None = None,
    host_name: str = "Alice Chen",
) -> Hosted:
    created = await HostAPI.create_meeting(
        server_url, policy, password, api_key=api_key_for(server_url)
    )
    host = await MeetingClient.connect(
        created.join_url, name=host_name, host_token=created.host_token
    )
    api = HostAPI(server_url, created.meeting_id, created.host_token)
    return Hosted(created.join_url, created.meeting_id, created.host_token, host, api)


async def admit(host: MeetingClient, guest: MeetingClient) -> None:
    """The host admits a guest it sees waiting; returns once the guest is in."""
    await host.wait_for(
        WaitingListChanged, lambda e: any(w.id == guest.participant_id for w in e.waiting)
    )
    assert guest.participant_id is not None
    await host.admit(guest.participant_id)
    await guest.wait_admitted()


async def admit_named(host: MeetingClient, name: str) -> str:
    """The host admits the person waiting under ``name`` (a browser, say); their id."""
    seen = await host.wait_for(
        WaitingListChanged, lambda e: any(w.name == name for w in e.waiting), timeout=30
    )
    waiting = next(w for w in seen.waiting if w.name == name)
    await host.admit(waiting.id)
    return waiting.id
