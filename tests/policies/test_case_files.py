"""Case files: held to the policy's bar, counted exactly, one pytest test per case."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from meetwarden.policies import case_reference
from meetwarden.policies.cases import parse_cases, run_cases
from meetwarden.policies.coverage import RULE_PATHS, rule_coverage
from meetwarden.policies.errors import PolicyError
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.testing import policy_cases
from meetwarden.server.i18n import english

ROOT = Path(__file__).parents[2]
HOST = "{type: join_requested, participant: h, name: Ann Host, role: host}"
BOB = "{type: join_requested, participant: bob, name: Bob Smith}"


def _issues(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_cases(text.encode(), yaml_format=True)
    return [str(issue) for issue in caught.value.issues]


def test_a_misspelt_expectation_is_refused_with_the_right_spelling() -> None:
    issues = _issues(f"cases:\n  - name: typo\n    when: {BOB}\n    expect: {{alowed: true}}\n")
    assert issues == [
        "/cases/0/expect/alowed: unknown field 'alowed'; did you mean 'allowed'? valid fields "
        "here are: allowed, reason, rule, params, message_contains, effects, no_effects, state"
    ]


def test_a_misspelt_effect_name_is_refused_with_the_valid_ones() -> None:
    for key in ("effects", "no_effects"):
        expect = f"{{{key}: [{{effect: add_particpant}}]}}"
        text = f"cases:\n  - name: t\n    when: {BOB}\n    expect: {expect}\n"
        [issue] = _issues(text)
        assert issue.startswith(
            f"/cases/0/expect/{key}/0: unknown effect 'add_particpant'; "
            "did you mean 'add_participant'? valid ones are: add_participant, admit,"
        )


def test_a_misspelt_effect_field_event_type_or_reason_is_refused() -> None:
    issues = _issues(
        "cases:\n  - name: t\n"
        "    given: [{type: join_request, participant: h, name: Ann Host}]\n"
        "    when: {type: left, participnt: bob}\n"
        "    expect: {reason: admited, effects: [{effect: open_gate, sourc: screen}]}\n"
    )
    text = "\n".join(issues)
    assert (
        "/cases/0/given/0: unknown event type 'join_request'; did you mean 'join_requested'?"
        in text
    )
    assert (
        "/cases/0/when/participnt: unknown field 'participnt'; did you mean 'participant'?" in text
    )
    assert "/cases/0/expect/reason: unknown reason code 'admited'; did you mean 'admitted'?" in text
    assert "/cases/0/expect/effects/0/sourc: unknown field 'sourc'; did you mean 'source'?" in text


def test_an_expectation_that_checks_nothing_or_a_repeated_name_is_refused() -> None:
    assert (
        "expect checks nothing"
        in _issues(f"cases:\n  - name: t\n    when: {BOB}\n    expect: {{}}\n")[0]
    )
    twice = f"  - name: t\n    when: {BOB}\n    expect: {{allowed: true}}\n"
    assert "two cases are named 't'" in _issues("cases:\n" + twice + twice)[0]


def test_anchors_under_x_keys_are_allowed_and_cases_still_run() -> None:
    cases = parse_cases(
        f"x-host: &host {HOST}\ncases:\n  - name: t\n    given: [*host]\n"
        f"    when: {BOB}\n    expect: {{reason: waiting_for_host}}\n".encode(),
        yaml_format=True,
    )
    [result] = run_cases(validate_policy({}), cases)
    assert result.passed, result.differences


def test_a_failed_effects_expectation_shows_the_actual_effects() -> None:
    cases = parse_cases(
        f"cases:\n  - name: t\n    when: {BOB}\n"
        "    expect: {effects: [{effect: admit, participant: bob}]}\n".encode(),
        yaml_format=True,
    )
    [result] = run_cases(validate_policy({}), cases)
    assert not result.passed
    assert result.differences[0] == (
        'effects: expected one matching {"effect": "admit", "participant": "bob"}, none did'
    )
    assert "the actual effects were:" in result.differences[1]
    assert '"effect": "add_participant", "participant": "bob"' in result.differences[1]


def test_coverage_counts_each_rule_path_once_per_case_that_reached_it() -> None:
    # host then bob: bypass and enabled; bob alone: enabled; bob then carol: enabled twice.
    cases = parse_cases(
        "cases:\n"
        f"  - name: a\n    given: [{HOST}]\n    when: {BOB}\n    expect: {{allowed: true}}\n"
        f"  - name: b\n    when: {BOB}\n    expect: {{allowed: true}}\n"
        f"  - name: c\n    given: [{BOB}]\n"
        "    when: {type: join_requested, participant: carol, name: Carol Jones}\n"
        "    expect: {allowed: true}\n".encode(),
        yaml_format=True,
    )
    results = run_cases(validate_policy({}), cases)
    counts = rule_coverage(r.rules for r in results)
    assert {path: n for path, n in counts.items() if n} == {
        "/entry/waiting_room/enabled": 3,
        "/entry/waiting_room/bypass": 1,
    }
    assert counts["/entry/waiting_room"] == 0  # a parent is not reached through its children
    assert list(counts)[: len(RULE_PATHS)] == list(RULE_PATHS)


def _rule_paths_in_code() -> set[str]:
    """Rule pointers written in the engine's code; f-strings expanded for the sections."""
    found: set[str] = set()
    sources = [*(ROOT / "policies" / "rules").glob("*.py"), ROOT / "policies" / "names.py"]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(/[a-z_]+)+", node.value)
            ):
                found.add(node.value)
    sections = {"/screen_share", "/file_share", "/entry/full_name"}
    tails = {p for p in found if not p.startswith(("/entry/", "/audio", "/chat", "/removal"))}
    tails -= sections | {p for p in found if p.startswith(("/screen_share", "/file_share"))}
    expanded = {s + t for s in sections for t in tails}
    return (found - tails) | {p for p in expanded if p in RULE_PATHS}


def test_rule_paths_are_the_ones_the_engine_names() -> None:
    assert set(RULE_PATHS) == _rule_paths_in_code()


def test_committed_case_schema_and_reference_are_generated_from_the_models() -> None:
    schema = (ROOT / "docs" / "cases.schema.json").read_text()
    assert schema == case_reference.render_schema(), (
        "regenerate: make docs (python -m meetwarden.policies.case_reference --schema)"
    )
    written = (ROOT / "docs" / "policy-testing.md").read_text()
    assert written == case_reference.render(), "regenerate: make docs"


test_example_board_meeting = policy_cases(
    ROOT / "policies" / "examples" / "board_meeting.json",
    ROOT / "policies" / "examples" / "board_meeting.cases.yaml",
    render=english,
)


def test_the_pytest_helper_makes_one_test_per_case_named_after_it(tmp_path: Path) -> None:
    (tmp_path / "guests.cases.yaml").write_text(
        "cases:\n"
        f"  - name: a guest waits\n    when: {BOB}\n    expect: {{reason: waiting_for_host}}\n"
        f"  - name: a guest is let straight in\n    when: {BOB}\n"
        "    expect: {reason: admitted}\n"
    )
    (tmp_path / "test_guests.py").write_text(
        "from meetwarden.policies.testing import policy_cases\n"
        "test_guests = policy_cases({}, 'guests.cases.yaml')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "test_guests.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "test_guests.py::test_guests[a guest waits] PASSED" in result.stdout
    assert "test_guests.py::test_guests[a guest is let straight in] FAILED" in result.stdout
    assert "reason: expected 'admitted', got 'waiting_for_host'" in result.stdout
    assert "1 failed, 1 passed" in result.stdout
