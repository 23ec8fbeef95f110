"""A bot reads the server's sentences in the language it joins with; the reason codes and
their parameters are the same in every language, so a bot may write its own."""

from __future__ import annotations

import pytest
from support.meetings import admit, hosted_meeting
from support.server import RunningServer

from meetwarden.client_sdk import (
    GrantReceived,
    HandRaised,
    JoinRefusedError,
    MeetingClient,
    PolicyRefusedError,
)

pytestmark = pytest.mark.anyio

NO_SHARING = {"screen_share": {"allowed": "nobody"}, "file_share": {"allowed": "with_grant"}}


async def test_a_refused_join_reads_in_the_language_asked_with_the_same_reason(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, {"entry": {"password": True}}, "correct horse")
    try:
        refusals = {}
        for language in ("en", "zh-CN"):
            with pytest.raises(JoinRefusedError) as caught:
                await MeetingClient.connect(
                    meeting.join_url, name="Bob Smith", password="wrong", language=language
                )
            refusals[language] = caught.value
        english, chinese = refusals["en"], refusals["zh-CN"]
        assert english.message == "Could not join: check the meeting link and the password."
        assert chinese.message == "无法加入：请检查会议链接和密码。"
        assert (
            (chinese.reason, chinese.rule) == (english.reason, english.rule) == ("join_failed", "")
        )
    finally:
        await meeting.close()


async def test_a_refusal_carries_the_same_params_in_chinese_and_in_english(
    server: RunningServer,
) -> None:
    meeting = await hosted_meeting(server.url, NO_SHARING)
    try:
        guests = {
            language: await MeetingClient.connect(meeting.join_url, name=name, language=language)
            for language, name in (("en", "Bob Smith"), ("zh-CN", "Li Na"))
        }
        refusals = {}
        for language, guest in guests.items():
            assert guest.status == "waiting"
            await admit(meeting.host, guest)
            with pytest.raises(PolicyRefusedError) as caught:
                await guest.request_share("screen")
            refusals[language] = caught.value
        english, chinese = refusals["en"], refusals["zh-CN"]
        assert english.message == "Nobody may share your screen in this meeting."
        assert chinese.message == "在这个会议中任何人都不能共享屏幕。"
        assert chinese.reason == english.reason == "share_not_allowed"
        assert chinese.params["kind"] == english.params["kind"] == "screen"
        assert str(chinese).startswith("在这个会议中任何人都不能共享屏幕。")
        for guest in guests.values():
            await guest.close()
    finally:
        await meeting.close()


async def test_notices_read_in_the_language_of_each_reader(server: RunningServer) -> None:
    meeting = await hosted_meeting(server.url, NO_SHARING)  # an English-speaking host
    try:
        guest = await MeetingClient.connect(meeting.join_url, name="Li Na", language="zh")
        await admit(meeting.host, guest)
        assert guest.participant_id is not None
        await meeting.host.grant(guest.participant_id, "file", minutes=10)
        granted = await guest.wait_for(GrantReceived, timeout=10)
        assert granted.message.text == "接下来 10 分钟内你可以共享文件。"
        assert granted.message.params == {"seconds": 600}
        with pytest.raises(PolicyRefusedError) as caught:
            await guest.request_unmute()  # muted on entry: a raised hand comes first
        assert caught.value.message == "请举手；主持人会允许你发言。"
        assert caught.value.reason == "unmute_needs_raised_hand"
        await guest.raise_hand()
        raised = await meeting.host.wait_for(HandRaised, timeout=10)
        assert raised.message.text == "Li Na raised a hand."
        assert raised.message.params == {"name": "Li Na"}
        await guest.close()
    finally:
        await meeting.close()
