"""The example bot of docs/bots.md runs, as a bot author would run it, against a real server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import ChatReceived, HandRaised, MeetingClient, WaitingListChanged

pytestmark = pytest.mark.anyio

BOT = Path(__file__).parents[2] / "docs" / "examples" / "notetaker_bot.py"


async def start_bot(*arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(BOT),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def bot_waiting(meeting: Hosted, bot: asyncio.subprocess.Process, name: str) -> str:
    """The bot's id once the host sees it waiting; fails with the bot's output if it exits
    first. Generous time: on a busy machine starting Python with aiortc takes a while."""
    seen = asyncio.ensure_future(
        meeting.host.wait_for(
            WaitingListChanged, lambda e: any(w.name == name for w in e.waiting), 120
        )
    )
    exited = asyncio.ensure_future(bot.wait())
    await asyncio.wait({seen, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not seen.done():
        seen.cancel()
        output = await bot.stdout.read() if bot.stdout else b""
        raise AssertionError(f"the bot exited before it was seen waiting:\n{output.decode()}")
    exited.cancel()
    return next(w.id for w in seen.result().waiting if w.name == name)


async def test_the_note_taker_waits_raises_its_hand_chats_and_leaves_when_the_meeting_ends(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {})
    bot = await start_bot(meeting.join_url, "--name", "Note Taker")
    guest: MeetingClient | None = None
    try:
        bot_id = await bot_waiting(meeting, bot, "Note Taker")
        await meeting.host.admit(bot_id)
        hand = await meeting.host.wait_for(HandRaised, timeout=30)
        assert hand.message.about == bot_id
        hello = await meeting.host.wait_for(
            ChatReceived, lambda e: e.message.sender == bot_id, timeout=30
        )
        assert hello.message.sender_name == "Note Taker"
        guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
        await admit(meeting.host, guest)
        await guest.chat("Decision: we ship on Friday.")
        await meeting.host.chat("Action: Bob writes the release notes.")
        await meeting.host.end_meeting()
        output, _ = await asyncio.wait_for(bot.communicate(), 60)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        if guest is not None:
            await guest.close()
        await meeting.close()
    text = output.decode()
    assert bot.returncode == 0, text
    assert "In the waiting room: a host will let me in." in text
    assert "The meeting ended: The host ended the meeting." in text
    assert text.rstrip().endswith(
        "Notes (2):\n"
        "- Bob Smith: Decision: we ship on Friday.\n"
        "- Alice Chen: Action: Bob writes the release notes."
    ), text


async def test_the_note_taker_says_why_when_the_host_denies_it(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, {})
    bot = await start_bot(meeting.meeting_id, "--server", server.url)
    try:
        await meeting.host.deny(await bot_waiting(meeting, bot, "Note Taker"))
        output, _ = await asyncio.wait_for(bot.communicate(), 60)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await meeting.close()
    assert bot.returncode == 2
    assert "Out of the meeting (denied): The host did not let you into this meeting." in (
        output.decode()
    )


async def test_a_meeting_id_that_starts_with_a_dash_is_taken_for_the_link(
    server: RunningServer,
) -> None:
    # Meeting ids are URL-safe base64: one in 64 starts with "-", which argparse alone
    # took for an unknown option ("the following arguments are required: link").
    bot = await start_bot("-" + "x" * 21, "--server", server.url)
    output = (await asyncio.wait_for(bot.communicate(), 120))[0].decode()
    assert "usage:" not in output, output
    assert output.startswith("Could not join"), output  # no such meeting: the server says so
    assert bot.returncode == 2
