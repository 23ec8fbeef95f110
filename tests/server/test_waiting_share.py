"""One source cannot fill the waiting room: bots from one network, then a real guest.

The bots come from 127.0.10.x (one /24, each bot its own address, so no
per-address cap is what stops them); the guest from 127.0.11.1.
"""

from __future__ import annotations

import pytest
from support.meetings import hosted_meeting
from support.server import RunningServer
from support.sources import Answer, join_from

from meetwarden.client_sdk import WaitingListChanged

pytestmark = pytest.mark.anyio


async def test_a_hundred_bots_from_one_network_leave_room_for_a_real_guest(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})  # capacity 100, a quarter per network
    invite = await meeting.api.create_invite(role="participant")
    bots: list[Answer] = []
    for number in range(1, 101):
        bots.append(
            await join_from(server.ws_url, meeting.meeting_id, f"127.0.10.{number}", "Bot Person")
        )
    waiting = [bot for bot in bots if bot.type == "welcome"]
    refused = [bot for bot in bots if bot.type == "join_refused"]
    assert len(waiting) == 25
    assert {bot.reason for bot in refused} == {"waiting_room_source_full"}
    assert {bot.message["rule"] for bot in refused} == {"/entry/waiting_room/max_share_per_source"}
    guest = await join_from(server.ws_url, meeting.meeting_id, "127.0.11.1", "Gina Guest")
    assert guest.type == "welcome", guest.message
    # Someone the host invited, from the bots' own network, is not counted against it.
    invited = await join_from(
        server.ws_url,
        meeting.meeting_id,
        "127.0.10.200",
        "Ivan Invited",
        invite=invite.invite_token,
    )
    assert invited.type == "welcome", invited.message
    await meeting.host.wait_for(WaitingListChanged, lambda e: len(e.waiting) == 27)
    for answer in (*waiting, guest, invited):
        await answer.leave()
    await meeting.close()
