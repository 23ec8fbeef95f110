"""Guessing at the door: attempt budgets that cannot be outrun, that strangers cannot turn
against the host or invited people, and that say nothing about which meetings exist.

Each test runs its own server (budgets are per process) and joins from chosen
loopback addresses (``support/sources.py``): 127.0.0.x are different addresses
to the server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from support.meetings import Hosted, hosted_meeting
from support.server import RunningServer
from support.sources import Answer, join_from

from meetwarden import protocol as wire

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse"
PROTECTED = {"entry": {"password": True}}


@pytest.fixture
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("attempts")).start()
    yield running
    running.stop()


async def wrong_password_checks(meeting: Hosted) -> int:
    """How many joins reached the password check and failed it (the host's audit log)."""
    entries = await meeting.api.audit(event_type="join_requested")
    return sum(1 for e in entries if e["decision"]["reason"] == "wrong_password")


async def guess(server: RunningServer, meeting_id: str, address: str, times: int) -> list[Answer]:
    return [
        await join_from(server.ws_url, meeting_id, address, password=f"guess {n}")
        for n in range(times)
    ]


async def test_concurrent_wrong_passwords_from_one_address_are_checked_at_most_five_times(
    own: RunningServer,
) -> None:
    meeting = await hosted_meeting(own.url, PROTECTED, PASSWORD)
    answers = await asyncio.gather(
        *(
            join_from(own.ws_url, meeting.meeting_id, "127.0.0.9", password=f"guess {n}")
            for n in range(32)
        )
    )
    assert {answer.type for answer in answers} == {"join_refused"}
    reasons = sorted(answer.reason or "" for answer in answers)
    assert reasons.count("join_failed") == 5, reasons
    assert reasons.count("too_many_attempts") == 27, reasons
    assert await wrong_password_checks(meeting) == 5, "each guess is counted before its check"
    await meeting.close()


async def test_an_address_that_failed_five_times_still_lets_its_host_and_invited_in(
    own: RunningServer,
) -> None:
    meeting = await hosted_meeting(own.url, PROTECTED, PASSWORD)
    invite = await meeting.api.create_invite(role="participant")
    office = "127.0.0.20"  # one address for everyone behind it (a NAT)
    assert {a.reason for a in await guess(own, meeting.meeting_id, office, 5)} == {"join_failed"}
    refused = await join_from(own.ws_url, meeting.meeting_id, office, password=PASSWORD)
    assert refused.reason == "too_many_attempts", "the address's own guesses stay bounded"
    await meeting.host.close()
    host = await join_from(
        own.ws_url, meeting.meeting_id, office, "Alice Chen", host_token=meeting.host_token
    )
    assert (host.type, host.message.get("role")) == ("welcome", "host")
    invited = await join_from(
        own.ws_url, meeting.meeting_id, office, "Carol Jones", invite=invite.invite_token
    )
    assert invited.type == "welcome"
    for answer in (host, invited):
        await answer.leave()
    await meeting.api.close()


async def test_strangers_guessing_do_not_lock_out_the_host_the_invited_or_a_clean_address(
    own: RunningServer,
) -> None:
    meeting = await hosted_meeting(own.url, PROTECTED, PASSWORD)
    invite = await meeting.api.create_invite(role="participant")
    strangers = [f"127.0.1.{n}" for n in range(1, 10)]
    for address in strangers:  # 9 addresses x 5 guesses: far past the meeting's budget (30)
        await guess(own, meeting.meeting_id, address, 5)
    # The meeting is paused for addresses that have been failing, whatever they send...
    probe = "127.0.2.1"
    assert (await guess(own, meeting.meeting_id, probe, 1))[0].reason == "join_failed"
    late = await join_from(own.ws_url, meeting.meeting_id, probe, password=PASSWORD)
    assert late.reason == "too_many_attempts"
    # ...and guessing stayed bounded: one guess per address beyond the shared budget.
    assert await wrong_password_checks(meeting) <= 30 + len(strangers) + 1
    # The host, an invited person (even from a stranger's address) and the right password
    # from an address that has not been failing all still get in.
    await meeting.host.close()
    host = await join_from(
        own.ws_url, meeting.meeting_id, strangers[0], "Alice Chen", host_token=meeting.host_token
    )
    assert (host.type, host.message.get("role")) == ("welcome", "host")
    invited = await join_from(
        own.ws_url, meeting.meeting_id, strangers[1], "Carol Jones", invite=invite.invite_token
    )
    assert invited.type == "welcome"
    colleague = await join_from(
        own.ws_url, meeting.meeting_id, "127.0.3.1", "Dan Brown", password=PASSWORD
    )
    assert colleague.type == "welcome"
    for answer in (host, invited, colleague):
        await answer.leave()
    await meeting.api.close()


def _shape(answer: Answer) -> tuple[object, ...]:
    """What a prober can compare: the fields, the reason, the sentence, the close."""
    message = answer.message
    return (
        sorted(message),
        message["type"],
        message["reason"],
        message["rule"],
        message["message"],
        message.get("retry_after") is None,
        message.get("decision_id") is None,
        answer.close_code,
        answer.close_reason,
    )


async def test_a_real_meeting_and_an_unknown_id_answer_alike_before_and_after_a_lockout(
    own: RunningServer,
) -> None:
    meeting = await hosted_meeting(own.url, PROTECTED, PASSWORD)
    real_id, unknown_id = meeting.meeting_id, secrets.token_urlsafe(16)  # the shape of a real id

    async def both(real_from: str, unknown_from: str, **join: str) -> list[tuple[object, ...]]:
        return [
            _shape(await join_from(own.ws_url, real_id, real_from, **join)),
            _shape(await join_from(own.ws_url, unknown_id, unknown_from, **join)),
        ]

    # Before any lockout: no password, a wrong one, a token that opens nothing.
    for n, join in enumerate(({}, {"password": "guess"}, {"host_token": "not.a.token"})):
        real, unknown = await both(f"127.0.4.{n}", f"127.0.4.{n + 100}", **join)
        assert real == unknown, join
        assert (real[2], real[7]) == ("join_failed", wire.CLOSE_JOIN_REFUSED)
    # The same guessing at both ids, each from its own addresses: both are paused alike.
    for n in range(1, 10):
        await guess(own, real_id, f"127.0.5.{n}", 5)
        await guess(own, unknown_id, f"127.0.6.{n}", 5)
    for n in (1, 2):  # two addresses with one failure each (somewhere else)
        await guess(own, secrets.token_urlsafe(16), f"127.0.7.{n}", 1)
    real, unknown = await both("127.0.7.1", "127.0.7.2", password=PASSWORD)
    assert real == unknown
    assert (real[2], real[7]) == ("too_many_attempts", wire.CLOSE_JOIN_REFUSED)
    real, unknown = await both("127.0.8.1", "127.0.8.2")  # clean addresses: still one guess
    assert real == unknown
    assert real[2] == "join_failed"
    await meeting.close()
