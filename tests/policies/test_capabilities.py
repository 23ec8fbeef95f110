"""What a policy asks that a server cannot give: pure, from the policy and the description."""

from __future__ import annotations

from typing import Any

import pytest

from meetwarden.policies.capabilities import (
    UNSUPPORTED_CODES,
    Capabilities,
    Scanner,
    unsupported,
)
from meetwarden.policies.errors import PolicyIssue, counted, listed
from meetwarden.policies.loading import validate_policy

FULL = Capabilities(
    version="1.0",
    media=True,
    scanner=Scanner(configured=True, reachable=True),
    max_upload_bytes=2**30,
)
BARE = Capabilities(media=False, scanner=Scanner(configured=False), max_upload_bytes=2**30)
SMALL = BARE.model_copy(update={"max_upload_bytes": 1000})


def problems(policy: dict[str, Any], capabilities: Capabilities) -> list[tuple[str, str]]:
    return [(p.pointer, p.code) for p in unsupported(validate_policy(policy), capabilities)]


def test_the_default_policy_runs_on_the_barest_server() -> None:
    assert problems({}, BARE) == []


def test_a_scan_without_a_scanner_says_how_to_fix_it() -> None:
    scan = {"file_share": {"scan": True}}
    assert problems(scan, FULL) == []
    [problem] = unsupported(validate_policy(scan), BARE)
    assert (problem.pointer, problem.code) == ("/file_share/scan", "no_scanner")
    assert "set file_share.scan to false" in problem.message
    assert "--clamd-socket" in problem.message


def test_a_scanner_that_is_down_is_not_a_missing_capability() -> None:
    down = FULL.model_copy(update={"scanner": Scanner(configured=True, reachable=False)})
    assert problems({"file_share": {"scan": True}}, down) == []


def test_file_rules_do_not_matter_when_nobody_may_share_files() -> None:
    policy = {"file_share": {"allowed": "nobody", "scan": True, "max_bytes": 5000}}
    assert problems(policy, SMALL) == []


def test_a_file_limit_above_the_server_upload_limit() -> None:
    assert problems({"file_share": {"max_bytes": 1000}}, SMALL) == []
    policy = {"file_share": {"max_bytes": 1001}}
    assert problems(policy, SMALL) == [("/file_share/max_bytes", "upload_too_large")]


def test_a_required_camera_on_a_server_without_media() -> None:
    policy = {"entry": {"camera": {"required": True}}}
    assert problems(policy, FULL) == []
    assert problems(policy, BARE) == [("/entry/camera/required", "no_media")]


@pytest.mark.parametrize(
    "policy",
    [
        {"file_share": {"scan": True}},
        {"file_share": {"max_bytes": 5000}},
        {"entry": {"camera": {"required": True}}},
    ],
)
def test_every_code_given_is_documented(policy: dict[str, Any]) -> None:
    found = unsupported(validate_policy(policy), SMALL)
    assert found
    for problem in found:
        assert problem.code in UNSUPPORTED_CODES


def test_capabilities_ignore_fields_a_newer_server_adds() -> None:
    read = Capabilities.model_validate(
        {**FULL.model_dump(), "turn": True, "scanner": {"configured": False, "engine": "x"}}
    )
    assert read.scanner == Scanner(configured=False)


def test_counted_and_listed_name_the_first_few() -> None:
    issues = [PolicyIssue(f"/a{n}", "invalid_value", f"bad {n}") for n in range(5)]
    assert (counted(1, "error"), counted(2, "error")) == ("1 error", "2 errors")
    assert listed(issues[:1]) == "/a0: bad 0"
    assert listed(issues) == "/a0: bad 0; /a1: bad 1; /a2: bad 2; and 2 more"
