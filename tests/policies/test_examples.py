"""The example policies ship with case files; every case must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from meetwarden.policies.testing import Meeting, assert_cases_pass, expect
from meetwarden.server.i18n import english

EXAMPLES = Path(__file__).parents[2] / "policies" / "examples"
POLICIES = sorted(EXAMPLES.glob("*.json"))


def test_there_are_the_four_promised_examples() -> None:
    assert {p.stem for p in POLICIES} >= {"board_meeting", "classroom", "webinar", "standup"}


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.stem)
def test_every_example_case_passes(policy: Path) -> None:
    cases = policy.with_name(f"{policy.stem}.cases.yaml")
    assert cases.exists(), f"{policy.name} has no case file"
    assert_cases_pass(policy, cases, render=english)


def test_a_failing_case_reports_what_differed(tmp_path: Path) -> None:
    cases = tmp_path / "wrong.yaml"
    cases.write_text(
        "cases:\n"
        "  - name: wrongly expects a guest straight in\n"
        "    given: [{type: join_requested, participant: h, name: Ann Host, role: host}]\n"
        "    when: {type: join_requested, participant: b, name: Bob Smith, password_ok: true}\n"
        "    expect: {allowed: true, reason: admitted}\n"
    )
    with pytest.raises(AssertionError) as caught:
        assert_cases_pass(EXAMPLES / "board_meeting.json", cases)
    assert "reason: expected 'admitted', got 'waiting_for_host'" in str(caught.value)


def test_the_python_helper_reads_like_the_case_files() -> None:
    meeting = Meeting(EXAMPLES / "classroom.json")
    expect(meeting.join("t", "Maria Garcia", role="host"), allowed=True, reason="host_joined")
    decision = meeting.join("s", "Sam Lee", invited=True)
    expect(decision, allowed=True, reason="admitted", rule="/entry/waiting_room/bypass")
    with pytest.raises(AssertionError, match="reason: expected 'unmuted'"):
        expect(meeting.event({"type": "unmute_requested", "participant": "s"}), reason="unmuted")
