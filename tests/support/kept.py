"""The host decisions that must outlive a process that dies (a worker, a node): a
mute that took the permission to unmute back, a file grant, a lock. Made before the
process is killed, checked from the guest's side once it resumed elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from meetwarden.client_sdk import JoinRefusedError, MeetingClient, PolicyRefusedError

__all__ = ["POLICY", "decide", "kept", "stored_with_grant"]

POLICY: dict[str, Any] = {
    "audio": {"unmute": "after_raised_hand"},
    "entry": {"reconnect_seconds": 300},
    "file_share": {"allowed": "with_grant"},
}
"""A policy under which each of those decisions shows (unmuting needs the host)."""


async def decide(host: MeetingClient, guest_id: str) -> None:
    """The host lets the guest unmute and takes it back, grants a file share, locks."""
    await host.ask_to_unmute(guest_id)
    await host.mute(guest_id)
    await host.grant(guest_id, "file", minutes=30)
    await host.lock()


def stored_with_grant(guest_id: str) -> Any:
    """A predicate on stored places: the guest's is stored with its grant (the last)."""
    return lambda people: bool(people.get(guest_id, {}).get("grants"))


async def kept(guest: MeetingClient, guest_id: str, link: str) -> None:
    """The guest resumed as the same person, under every decision ``decide`` made."""
    assert (guest.status, guest.participant_id) == ("admitted", guest_id)
    assert guest.you is not None
    assert (guest.you.muted, guest.you.may_unmute) == (True, False)
    assert [grant.kind for grant in guest.you.grants] == ["file"]
    with pytest.raises(PolicyRefusedError):
        await guest.request_unmute()
    late: MeetingClient | None = None
    try:
        with pytest.raises(JoinRefusedError) as refused:  # still locked
            late = await MeetingClient.connect(link, name="Carol Jones")
        assert refused.value.reason == "meeting_locked"
    finally:
        if late is not None:
            await late.close()
