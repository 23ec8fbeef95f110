"""A server restart (close code 1012) costs a bot nothing: the SDK resumes its place."""

from __future__ import annotations

import contextlib

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    Admitted,
    ChatReceived,
    ConnectionClosedError,
    MeetingClient,
    MeetwardenTimeoutError,
)

pytestmark = pytest.mark.anyio


async def test_after_a_restart_a_bot_is_back_in_its_place_and_chats_without_rejoining(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = RunningServer(tmp_path_factory.mktemp("resume")).start()
    meeting = await hosted_meeting(server.url, {"entry": {"reconnect_seconds": 300}})
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    manual = await MeetingClient.connect(
        meeting.join_url, name="Carol Jones", resume_automatically=False
    )
    try:
        await admit(meeting.host, guest)
        await admit(meeting.host, manual)
        guest_id = guest.participant_id
        # The host's own admission, received long ago, is taken now: the wait below is for
        # its admission again after the restart (the guest's chat must find it back).
        with contextlib.suppress(MeetwardenTimeoutError):
            await meeting.host.wait_for(Admitted, timeout=0.1)
        server.restart()  # graceful: uvicorn closes every socket with 1012

        await guest.wait_for(Admitted, timeout=60)  # no wait_admitted, no host action
        await meeting.host.wait_for(Admitted, timeout=60)
        assert guest.close_code == 1012
        assert (guest.status, guest.participant_id) == ("admitted", guest_id)
        await guest.chat("still here")
        heard = await meeting.host.wait_for(ChatReceived, lambda e: e.message.sender == guest_id)
        assert heard.message.text == "still here"

        await manual.wait_closed()  # who asked for no automatic resume is told, not resumed
        assert (manual.status, manual.close_code) == ("closed", 1012)
        with pytest.raises(ConnectionClosedError) as caught:
            await manual.chat("hello?")
        assert caught.value.params["close_code"] == 1012
        await manual.reconnect()
        assert manual.status == "admitted"
    finally:
        for client in (guest, manual):
            await client.close()
        await meeting.close()
        server.stop()
        print("".join(server.log[-120:]))  # shown by pytest when the test fails
