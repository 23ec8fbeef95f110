"""The roster and the waiting list go out as changes, not as the whole list each time.

Through a real server with SDK clients: what a person already in the meeting reads
when someone joins, changes or leaves is that one person's entry (or id), while the
list the client keeps (``event.roster``, ``client.roster``) is everyone; a co-host
made mid-meeting is given the whole waiting list once, then its changes.
"""

from __future__ import annotations

import pytest
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import MeetingClient, RosterChanged, WaitingListChanged

pytestmark = pytest.mark.anyio

GUESTS = ["Bob Smith", "Carol Jones", "Dave Brown"]
LAST = ["Silva", "Nguyen", "Okafor"]


async def _join(meeting: Hosted, name: str) -> MeetingClient:
    guest = await MeetingClient.connect(meeting.join_url, name=name)
    await admit(meeting.host, guest)
    return guest


async def test_a_join_a_mute_and_a_leave_each_send_the_one_person_who_changed(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    guests = [await _join(meeting, name) for name in GUESTS]
    bob = guests[0]
    erin = await MeetingClient.connect(meeting.join_url, name="Erin Wu")
    try:
        await admit(meeting.host, erin)
        joined = await bob.wait_for(
            RosterChanged, lambda e: erin.participant_id in {p.id for p in e.message.entries}
        )
        assert [(p.id, p.name) for p in joined.message.entries] == [
            (erin.participant_id, "Erin Wu")
        ]
        assert joined.message.removed == []
        everyone = {meeting.host.participant_id, erin.participant_id}
        everyone |= {g.participant_id for g in guests}
        assert {p.id for p in joined.roster} == everyone

        await erin.raise_hand()
        raised = await bob.wait_for(
            RosterChanged, lambda e: any(p.hand_raised for p in e.message.entries)
        )
        assert [(p.id, p.hand_raised) for p in raised.message.entries] == [
            (erin.participant_id, True)
        ]
        assert [p.id for p in raised.roster] == [p.id for p in joined.roster]  # in place

        await erin.leave()
        left = await bob.wait_for(RosterChanged, lambda e: bool(e.message.removed))
        assert (left.message.entries, left.message.removed) == ([], [erin.participant_id])
        assert {p.id for p in bob.roster} == everyone - {erin.participant_id}
    finally:
        for guest in guests:
            await guest.close()
        await erin.close()
        await meeting.close()


async def test_a_cohost_made_mid_meeting_gets_the_whole_waiting_list_then_its_changes(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    carol = await _join(meeting, "Carol Jones")
    waiting = [await MeetingClient.connect(meeting.join_url, name=n) for n in GUESTS[::2]]
    later: MeetingClient | None = None
    try:
        ids = [w.participant_id for w in waiting]
        await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == len(ids))
        assert carol.participant_id is not None
        await meeting.host.set_role(carol.participant_id, "cohost")
        whole = await carol.wait_for(WaitingListChanged)
        assert [w.id for w in whole.message.waiting] == ids  # the whole list, once
        later = await MeetingClient.connect(meeting.join_url, name="Frank Green")
        change = await carol.wait_for(WaitingListChanged)
        assert [w.id for w in change.message.entries] == [later.participant_id]
        assert [w.id for w in change.waiting] == [*ids, later.participant_id]
        await meeting.host.admit(ids[0])
        admitted = await carol.wait_for(WaitingListChanged)
        assert admitted.message.removed == [ids[0]]
        assert [w.id for w in carol.waiting] == [ids[1], later.participant_id]
    finally:
        for client in [*waiting, carol, *([later] if later else [])]:
            await client.close()
        await meeting.close()


CROWD = [f"{first} {last}" for first in ("Ana", "Bao", "Dara", "Emil") for last in LAST]


async def test_admit_all_gives_each_person_admitted_the_whole_roster_as_it_is_now(
    server: RunningServer,
) -> None:
    """One ``admit_all`` of many: every ``admitted`` carries the same whole roster (the
    server keeps its text between decisions); a later one shows who changed since."""
    meeting = await hosted_meeting(server.url, {})
    crowd = [await MeetingClient.connect(meeting.join_url, name=name) for name in CROWD]
    late: MeetingClient | None = None
    try:
        await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == len(crowd))
        assert (await meeting.host.admit_all()).allowed
        rosters = [await guest.wait_admitted() for guest in crowd]
        expected = {meeting.host.participant_id: "Alice Chen"} | {
            guest.participant_id: name for guest, name in zip(crowd, CROWD, strict=True)
        }
        assert {p.id: p.name for p in rosters[0].roster} == expected
        assert all(r.roster == rosters[0].roster for r in rosters)
        assert all(guest.waiting == [] for guest in crowd)  # the waiting list is the hosts'

        first = crowd[0]
        await first.raise_hand()
        await meeting.host.wait_for(
            RosterChanged, lambda e: any(p.hand_raised for p in e.message.entries)
        )
        late = await MeetingClient.connect(meeting.join_url, name="Erin Wu")
        await admit(meeting.host, late)
        latest = {p.id: p for p in late.roster}
        assert set(latest) == {*expected, late.participant_id}
        assert [pid for pid, p in latest.items() if p.hand_raised] == [first.participant_id]
    finally:
        for guest in [*crowd, *([late] if late else [])]:
            await guest.close()
        await meeting.close()
