"""Stable identity where the host wants it (``entry.identity``), end to end.

With the waiting room off, a removed person comes back at once under a new
name from another address (a new device: no device token) when anyone may
join; with ``invited`` their personal invite is who they are, and it stays
banned, across a restart too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.meetings import hosted_meeting
from support.server import RunningServer
from support.sources import join_from

from meetwarden.client_sdk import MeetingClient, Removed, RosterChanged

pytestmark = pytest.mark.anyio

NO_WAITING = {"waiting_room": {"enabled": False}}


@pytest.fixture
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("identity")).start()
    yield running
    running.stop()


async def remove(host: MeetingClient, guest: MeetingClient) -> None:
    assert guest.participant_id is not None
    await host.wait_for(
        RosterChanged, lambda e: any(p.id == guest.participant_id for p in e.roster)
    )
    await host.remove(guest.participant_id)
    await guest.wait_for(Removed)


async def test_with_anyone_a_removed_person_is_back_under_a_new_name_from_another_address(
    own: RunningServer,
) -> None:
    """The limit that ``policy explain`` states for ``anyone``: device and name only."""
    meeting = await hosted_meeting(own.url, {"entry": NO_WAITING})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await remove(meeting.host, guest)
    same_name = await join_from(own.ws_url, meeting.meeting_id, "127.0.20.2", "Bob Smith")
    assert same_name.reason == "banned"
    back = await join_from(own.ws_url, meeting.meeting_id, "127.0.20.2", "Robert Other")
    assert back.type == "welcome"
    await back.leave()
    await meeting.close()


async def test_with_invited_a_removed_person_stays_out_whatever_name_address_or_restart(
    own: RunningServer,
) -> None:
    meeting = await hosted_meeting(own.url, {"entry": {"identity": "invited", **NO_WAITING}})
    invite = await meeting.api.create_invite(role="participant")
    stranger = await join_from(own.ws_url, meeting.meeting_id, "127.0.21.1", "Sam Stranger")
    assert (stranger.reason, stranger.message["rule"]) == ("invite_required", "/entry/identity")
    guest = await MeetingClient.connect(invite.join_url, name="Bob Smith")
    assert guest.status == "admitted"
    # The invite is one person: a second one presenting it while Bob is in is refused.
    shared = await join_from(
        own.ws_url, meeting.meeting_id, "127.0.21.2", "Mallory Moss", invite=invite.invite_token
    )
    assert (shared.reason, shared.message["rule"]) == ("invite_in_use", "/entry/identity")
    await remove(meeting.host, guest)
    for name, address in (("Robert Other", "127.0.21.3"), ("Bob Smith", "127.0.21.4")):
        back = await join_from(
            own.ws_url, meeting.meeting_id, address, name, invite=invite.invite_token
        )
        assert back.reason == "banned", (name, address)
    # Someone else invited, who happens to share Bob's name, is not turned away.
    other = await meeting.api.create_invite(role="participant")
    namesake = await join_from(
        own.ws_url, meeting.meeting_id, "127.0.21.5", "Bob Smith", invite=other.invite_token
    )
    assert namesake.type == "welcome"
    await namesake.leave()
    host_token, meeting_id = meeting.host_token, meeting.meeting_id
    await meeting.close()
    own.restart()  # the ban is kept with the meeting, not in the process
    host = await join_from(own.ws_url, meeting_id, "127.0.0.1", "Alice Chen", host_token=host_token)
    assert host.type == "welcome"
    after = await join_from(
        own.ws_url, meeting_id, "127.0.21.6", "Yet Another", invite=invite.invite_token
    )
    assert after.reason == "banned"
    await host.leave()
