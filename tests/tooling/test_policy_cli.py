"""`meetwarden policy ...` as a host uses it: real processes, exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "policies" / "examples"
CLI = str(Path(sys.executable).with_name("meetwarden"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "policy", *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )


def test_check_accepts_valid_policies_with_exit_0() -> None:
    result = run("check", *sorted(EXAMPLES.glob("*.json")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": valid") == 4


def test_check_lists_every_error_with_its_pointer_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"entry": {"locked": "off", "locked": true}, "audio": {"unmute": "never"}}')
    result = run("check", bad)
    assert result.returncode == 1
    assert "/entry/locked: the key 'locked' appears more than once" in result.stdout
    machine = json.loads(run("check", "--json", bad).stdout)
    assert machine[0]["valid"] is False
    assert [e["pointer"] for e in machine[0]["errors"]] == ["/entry/locked"]


def test_check_reports_a_missing_file_without_a_traceback(tmp_path: Path) -> None:
    result = run("check", tmp_path / "nope.json")
    assert result.returncode == 1
    assert "cannot read" in result.stdout
    assert "Traceback" not in result.stderr


def test_explain_says_the_policy_in_plain_words() -> None:
    result = run("explain", EXAMPLES / "board_meeting.json")
    assert result.returncode == 0
    assert "A password is needed to join" in result.stdout
    assert "raises a hand" in result.stdout
    assert "(/screen_share)" in result.stdout


def test_explain_speaks_chinese_when_asked() -> None:
    result = run("explain", "--lang", "zh-CN", EXAMPLES / "board_meeting.json")
    assert result.returncode == 0
    assert "加入会议需要密码（持邀请者无需密码）。" in result.stdout
    assert "想发言时，参会者须先举手" in result.stdout
    assert "(/screen_share)" in result.stdout  # the rules' pointers stay as written
    assert "A password is needed" not in result.stdout


def test_explain_refuses_a_language_it_does_not_have() -> None:
    result = run("explain", "--lang", "tlh", EXAMPLES / "board_meeting.json")
    assert result.returncode == 2
    assert "--lang: 'tlh' is not one of en, zh-CN" in result.stderr


def test_schema_is_json_schema_an_editor_can_use() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "meetwarden policy"
    assert "entry" in schema["properties"]


def test_simulate_replays_events_with_timers_firing(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        {"type": "join_requested", "participant": "h", "name": "Ann Host", "role": "host"},
        {"type": "join_requested", "participant": "b", "name": "Bob Smith", "password_ok": True},
        {"type": "admit", "actor": "h", "participant": "b"},
        {"type": "grant", "actor": "h", "participant": "b", "kind": "screen", "minutes": 1},
        {"type": "clock", "at": 61},
    ]
    events.write_text("\n".join(json.dumps(line) for line in lines))
    result = run("simulate", EXAMPLES / "board_meeting.json", events)
    assert result.returncode == 0, result.stderr
    assert "waiting_for_host (/entry/waiting_room/enabled)" in result.stdout
    assert "[timer] t=10 camera_check_due b: REFUSED camera_missing" in result.stdout
    machine = [
        json.loads(line)
        for line in run(
            "simulate", "--json", EXAMPLES / "board_meeting.json", events
        ).stdout.splitlines()
    ]
    assert [d["reason"] for d in machine][:3] == [
        "host_joined",
        "waiting_for_host",
        "admitted_by_host",
    ]


def test_simulate_flags_decisions_that_differ_from_a_recorded_audit(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    record = {
        "event": {"type": "join_requested", "participant": "b", "name": "Bob Smith"},
        "decision": {"allowed": True, "reason": "admitted"},
    }
    audit.write_text(json.dumps(record) + "\n")
    result = run("simulate", EXAMPLES / "board_meeting.json", audit)
    assert result.returncode == 1
    assert "recorded then: admitted" in result.stdout


def test_simulate_names_the_line_of_a_bad_event(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "join_requested", "participant": "b"}\n')
    result = run("simulate", EXAMPLES / "board_meeting.json", events)
    assert result.returncode == 2
    assert "line 1: not a valid event" in result.stderr


def test_policy_test_runs_cases_like_opa_test(tmp_path: Path) -> None:
    result = run(
        "test", EXAMPLES / "classroom.json", EXAMPLES / "classroom.cases.yaml", "--coverage"
    )
    assert result.returncode == 0, result.stdout
    assert "PASS: a student cannot unmute without raising a hand" in result.stdout
    assert "coverage:" in result.stdout
    failing = tmp_path / "fail.yaml"
    failing.write_text(
        "cases:\n  - name: wrong\n    when: {type: join_requested, participant: b, name: Bo Li}\n"
        "    expect: {reason: admitted}\n"
    )
    result = run("test", EXAMPLES / "classroom.json", failing)
    assert result.returncode == 1
    assert "FAIL: wrong" in result.stdout
    assert "reason: expected 'admitted', got 'waiting_for_host'" in result.stdout


def test_policy_test_refuses_a_case_file_with_duplicate_keys(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("cases:\n  - name: a\n    name: b\n    when: {}\n    expect: {}\n")
    result = run("test", EXAMPLES / "classroom.json", dup)
    assert result.returncode == 2
    assert "appears twice" in result.stderr


def _audit_with_a_policy_update(tmp_path: Path) -> Path:
    """A meeting whose host opened the waiting room mid-meeting (revision 1 -> 2)."""
    opened = {"entry": {"waiting_room": {"enabled": False}, "full_name": {"min_words": 1}}}
    entries = [
        ({"type": "join_requested", "participant": "h", "name": "Ann Host", "role": "host"}, 1),
        ({"type": "policy_update", "actor": "h", "policy": opened}, 1),
        ({"type": "join_requested", "participant": "b", "name": "Bob"}, 2),
    ]
    reasons = ["host_joined", "policy_updated", "admitted"]
    audit = tmp_path / "audit.jsonl"
    audit.write_text(
        "".join(
            json.dumps(
                {
                    "policy_revision": revision,
                    "event": event,
                    "decision": {"allowed": True, "reason": reason},
                }
            )
            + "\n"
            for (event, revision), reason in zip(entries, reasons, strict=True)
        )
    )
    return audit


def test_simulate_says_when_a_recorded_policy_update_replaces_the_policy_under_test(
    tmp_path: Path,
) -> None:
    audit = _audit_with_a_policy_update(tmp_path)
    policy = EXAMPLES / "classroom.json"
    result = run("simulate", policy, audit)
    assert result.returncode == 0, result.stdout + result.stderr
    notice = f"line 2: a policy_update replaces {policy} with policy revision 2"
    assert notice in result.stdout
    assert notice in result.stderr
    assert "--keep-policy keeps" in result.stderr
    machine = [
        json.loads(line) for line in run("simulate", "--json", policy, audit).stdout.splitlines()
    ]
    assert machine[1]["replaces_policy_under_test"] == {"revision": 2}


def test_simulate_keep_policy_decides_every_line_with_the_policy_under_test(
    tmp_path: Path,
) -> None:
    audit = _audit_with_a_policy_update(tmp_path)
    result = run("simulate", "--keep-policy", EXAMPLES / "classroom.json", audit)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "line 2: policy_update skipped" in result.stdout
    assert "REFUSED name_too_short" in result.stdout
    assert "recorded then: admitted" in result.stdout
    assert "replaces" not in result.stdout + result.stderr


def test_policy_test_refuses_a_case_file_with_a_typo_naming_it(tmp_path: Path) -> None:
    typo = tmp_path / "typo.cases.yaml"
    typo.write_text(
        "cases:\n  - name: t\n    when: {type: join_requested, participant: b, name: Bo Li}\n"
        "    expect: {alowed: true, no_effects: [{effect: add_particpant}]}\n"
    )
    result = run("test", EXAMPLES / "classroom.json", typo)
    assert result.returncode == 2
    assert f"{typo}: not a valid case file" in result.stderr
    assert (
        "/cases/0/expect/alowed: unknown field 'alowed'; did you mean 'allowed'?" in result.stderr
    )
    assert "unknown effect 'add_particpant'; did you mean 'add_participant'?" in result.stderr
    assert "PASS" not in result.stdout


def test_policy_test_finds_the_case_files_in_a_folder_and_runs_those_named(
    tmp_path: Path,
) -> None:
    nested = tmp_path / "more"
    nested.mkdir()
    (tmp_path / "guests.cases.yaml").write_text(
        "cases:\n  - name: a guest waits\n"
        "    when: {type: join_requested, participant: b, name: Bo Li}\n"
        "    expect: {reason: waiting_for_host}\n"
    )
    (nested / "hosts.cases.json").write_text(
        json.dumps(
            {
                "cases": [
                    {
                        "name": "the host comes in",
                        "when": {
                            "type": "join_requested",
                            "participant": "h",
                            "name": "Ann Host",
                            "role": "host",
                        },
                        "expect": {"reason": "host_joined"},
                    }
                ]
            }
        )
    )
    (tmp_path / "notes.yaml").write_text("not: a case file\n")
    result = run("test", EXAMPLES / "classroom.json", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed" in result.stdout
    result = run("test", EXAMPLES / "classroom.json", tmp_path, "--run", "^the host", "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: the host comes in" in result.stdout
    assert "decision: allowed host_joined (/entry/waiting_room/bypass)" in result.stdout
    assert '-> {"effect": "add_participant"' in result.stdout
    assert "a guest waits" not in result.stdout
    assert "1 passed, 0 failed, 1 not run (--run)" in result.stdout
    nothing = run("test", EXAMPLES / "classroom.json", tmp_path, "--run", "nobody")
    assert nothing.returncode == 1
    assert "no cases matching --run 'nobody'" in nothing.stderr


def test_policy_test_coverage_counts_the_cases_per_rule(tmp_path: Path) -> None:
    cases = tmp_path / "c.cases.yaml"
    cases.write_text(
        "cases:\n"
        "  - name: a\n    when: {type: join_requested, participant: b, name: Bo Li}\n"
        "    expect: {allowed: true}\n"
        "  - name: b\n    given: [{type: join_requested, participant: b, name: Bo Li}]\n"
        "    when: {type: join_requested, participant: c, name: Cy Li}\n"
        "    expect: {allowed: true}\n"
    )
    result = run("test", EXAMPLES / "classroom.json", cases, "--coverage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "coverage: 1/41 rule paths reached" in result.stdout
    assert "   2 case(s)  /entry/waiting_room/enabled" in result.stdout
    assert "not reached: /entry/waiting_room/bypass" in result.stdout
    machine = json.loads(
        run("test", "--json", "--coverage", EXAMPLES / "classroom.json", cases).stdout
    )
    assert machine["coverage"]["/entry/waiting_room/enabled"] == 2


def test_case_schema_prints_the_committed_schema() -> None:
    result = run("case-schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "docs" / "cases.schema.json").read_text()
    assert json.loads(result.stdout)["title"] == "meetwarden cases"
