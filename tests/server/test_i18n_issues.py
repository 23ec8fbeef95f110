"""Each issue of a refused policy reads in every catalog, and its English is the engine's.

The engine writes an issue's English (``PolicyIssue.message``) and says which sentence
it is (``key``) with its parameters; the edge writes it from the catalogs. Here every
issue a document can cause is caused, and every ``policy_issue:`` sentence of the
catalogs is reached: its English must be the engine's word for word, and its Chinese
must be whole (every placeholder filled, no English sentence left).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import ErrorDetails

from meetwarden.policies.capabilities import Capabilities, Scanner, unsupported
from meetwarden.policies.case_model import validate_case_file
from meetwarden.policies.errors import PolicyError, PolicyIssue
from meetwarden.policies.jsonload import parse_json
from meetwarden.policies.loading import describe_error, load_policy, validate_policy
from meetwarden.server.cli_reading import read_file
from meetwarden.server.i18n import LANGUAGES, Language, issue_json, issue_text, issues_listed
from meetwarden.server.i18n.catalogs import catalog
from meetwarden.server.i18n.markers import SENTENCES
from meetwarden.server.i18n.rendering import conditions_of
from meetwarden.server.runtime.registry import password_issue

# Documents, as a host might send them, that the engine refuses.
BAD_POLICIES: list[bytes | str] = [
    b'{"entry": {"locked": "off"}}',
    b'{"entry": {"locked": null}}',
    b'{"entry": {"locked": 1}}',
    b'{"entry": {"max_participants": 1.5}}',
    b'{"entry": {"max_participants": true}}',
    b'{"entry": {"max_participants": false}}',
    b'{"entry": {"max_participants": 0}}',
    b'{"entry": {"max_participants": 100000}}',
    b'{"entry": {"max_participants": [2]}}',
    b'{"entry": {"max_participants": {"n": 2}}}',
    b'{"audio": {"unmute": "whenever"}}',
    b'{"version": 2}',
    b'{"name": 7}',
    b'{"name": "' + b"x" * 300 + b'"}',
    b'{"entry": 3}',
    b'{"screen_share": {"surfaces": "window"}}',
    b'{"screen_share": {"surfaces": []}}',
    b'{"file_share": {"types": [""]}}',
    b'{"entry": {"full_name": {"blocked_words": [' + b", ".join([b'"w"'] * 201) + b"]}}}",
    b'{"entry": {"waiting_room": {"bypas": ["cohost"]}}}',
    b'{"audio": {"mute_on_entr": true}}',
    b'{"entry": {"waiting_room": {"bypass": ["cohost", "cohost"]}}}',
    b'{"entry": {"waiting_room": {"enabled": false, "bypass": ["cohost"]}}}',
    b'{"entry": {"camera": {"required": true, "min_fps": 0}}}',
    b'{"screen_share": {"allowed": "anyone", "grant_minutes": 5}}',
    b'{"file_share": {"types": ["pdf"]}}',
    b'{"file_share": {"types": ["application/x-dosexec"]}}',
    b'{"chat": {"allowed": "nobody", "private": "everyone"}}',
    b'{"chat": {"allowed": "host_only", "private": "everyone"}}',
    b'{"a": 1, "a": 2}',
    b'{"entry": {"max_participants": NaN}}',
    b'{"entry": {"max_participants": ' + b"9" * 40 + b"}}",
    b"[" * 40 + b"]" * 40,
    b'{"entry": \xff}',
    b'{"entry" {}}',
    b'{"entry": }',
    b'{"entry": {}',
    b"{entry: {}}",
    b'{"name": "open',
    b'{"name": "\\q"}',
    b'{"name": "\\u12"}',
    b"{} {}",
    b"x" * 300_000,
    "x" * 300_000,
]

BAD_CASE_FILES: list[Any] = [
    {
        "cases": [
            {"name": "t", "when": {"type": "left", "participant": "p"}, "expect": {"alowed": 1}}
        ]
    },
    {"cases": [{"name": "t", "when": {"type": "join_request", "participant": "p"}}]},
    {"cases": [{"name": "t", "when": {"type": "zzzzzz", "participant": "p"}}]},
    {"cases": [{"name": "t", "when": {"participant": "p"}}]},
    {
        "cases": [
            {
                "name": "t",
                "when": {"type": "left", "participant": "p"},
                "expect": {"reason": "admited"},
            }
        ]
    },
    {
        "cases": [
            {
                "name": "t",
                "when": {"type": "left", "participant": "p"},
                "expect": {"reason": "zzzzzzzz"},
            }
        ]
    },
    {"cases": [{"when": {"type": "left", "participant": "p"}}]},
]


def _refused(read: Callable[[], Any]) -> list[PolicyIssue]:
    with pytest.raises(PolicyError) as caught:
        read()
    return list(caught.value.issues)


def _generic(kind: str, ctx: dict[str, Any] | None, msg: str = "") -> ErrorDetails:
    """A pydantic error as pydantic writes it (``msg``: its English)."""
    error: dict[str, Any] = {"type": kind, "loc": ("a",), "msg": msg or kind, "input": "x"}
    if ctx is not None:
        error["ctx"] = ctx
    return error  # type: ignore[return-value]


def all_issues(tmp_path: Path) -> Iterator[PolicyIssue]:
    """Every issue the engine and the server's own checks give, each kind at least once."""
    for document in BAD_POLICIES:
        yield from _refused(lambda document=document: load_policy(document))
    yield from _refused(lambda: validate_policy([1, 2]))
    yield from _refused(lambda: validate_policy({"name": float("nan")}))
    yield from _refused(lambda: parse_json("{}", max_bytes=1))
    for case_file in BAD_CASE_FILES:
        yield from _refused(lambda case_file=case_file: validate_case_file(case_file))
    # pydantic's error types that a policy's models cannot cause, but a schema might.
    for kind, ctx, msg in [
        ("float_type", None, ""),
        ("list_type", None, ""),
        ("dict_type", None, ""),
        ("model_attributes_type", None, ""),
        ("greater_than", {"gt": 0}, "Input should be greater than 0"),
        ("less_than", {"lt": 10}, "Input should be less than 10"),
        ("string_too_short", {"min_length": 3}, ""),
        ("string_too_long", {"max_length": 1}, ""),
        ("too_short", {"min_length": 2}, ""),
        ("too_long", {"max_length": 1}, ""),
        ("missing", None, "Field required"),
    ]:
        yield describe_error(_generic(kind, ctx, msg), "/a")
    scanless = Capabilities(media=False, scanner=Scanner(configured=False), max_upload_bytes=10)
    asking = validate_policy(
        {
            "file_share": {"allowed": "anyone", "scan": True},
            "entry": {"camera": {"required": True}},
        }
    )
    yield from unsupported(asking, scanless)
    protected = validate_policy({"entry": {"password": True}})
    for policy, password in [(validate_policy({}), "short"), (protected, None)]:
        issue = password_issue(policy, password)
        assert issue is not None
        yield issue
    yield from _refused(lambda: read_file(tmp_path / "missing.json"))


@pytest.fixture(scope="module")
def issues(tmp_path_factory: pytest.TempPathFactory) -> list[PolicyIssue]:
    return list(all_issues(tmp_path_factory.mktemp("issues")))


def _sentence(issue: PolicyIssue) -> bool:
    return any(conditions_of(key)[0] == f"policy_issue:{issue.sentence}" for key in SENTENCES)


def test_every_issue_sentence_of_the_catalogs_is_reached(issues: list[PolicyIssue]) -> None:
    declared = {
        conditions_of(key)[0].removeprefix("policy_issue:")
        for key in SENTENCES
        if key.startswith("policy_issue:")
    }
    reached = {issue.sentence for issue in issues}
    assert declared - reached == set(), "a sentence no issue uses"


def test_the_english_of_every_issue_is_the_engines(issues: list[PolicyIssue]) -> None:
    for issue in issues:
        if _sentence(issue):
            assert issue_text(issue, "en") == issue.message, issue


def test_an_issue_without_a_sentence_reads_as_its_english() -> None:
    said = "Input should be a valid UUID"
    unknown = describe_error(_generic("uuid_parsing", None, said), "/a")
    assert (unknown.key, unknown.message) == ("uuid_parsing", said)
    assert issue_text(unknown, "zh-CN") == said
    # A sentence whose parameters are not all there is not written half-filled.
    bare = PolicyIssue("/a", "upload_too_large", "This server takes less.")
    assert issue_text(bare, "zh-CN") == "This server takes less."


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_issue_reads_whole_in_every_language(
    issues: list[PolicyIssue], language: Language
) -> None:
    for issue in issues:
        text = issue_text(issue, language)
        assert text, issue
        assert not re.search(r"\{\w+(?::[\w.]+)?\}", text), (issue, text)
        if language == "zh-CN" and _sentence(issue):
            assert re.search(r"[\u4e00-\u9fff]", text), (issue, text)


_UNCHANGED = {"null", "true", "false"}  # JSON's own words
_ISSUE_KEYS = ("policy_issue:", "policy_input:", "phrase:json_problem", "phrase:case_tag")


def test_every_issue_sentence_is_translated() -> None:
    chinese_catalog = catalog("zh-CN").keyed
    for key, english in SENTENCES.items():
        if key.startswith(_ISSUE_KEYS) and english not in _UNCHANGED:
            chinese = chinese_catalog.get((key, english), "")
            assert chinese, key
            assert chinese != english, key
            assert re.search(r"[\u4e00-\u9fff]", chinese), (key, chinese)


def test_chinese_keeps_the_pointer_code_key_and_params() -> None:
    [issue] = _refused(lambda: load_policy(b'{"audio": {"unmute": "whenever"}}'))
    english, chinese = issue_json(issue, "en"), issue_json(issue, "zh-CN")
    assert english == {
        "pointer": "/audio/unmute",
        "code": "invalid_value",
        "message": (
            "must be 'self', 'after_raised_hand' or 'host_only'; got the string \"whenever\""
        ),
        "key": "literal_error",
        "params": {
            "expected": ["'self'", "'after_raised_hand'", "'host_only'"],
            "input_type": "string",
            "input": '"whenever"',
        },
    }
    assert {**chinese, "message": ""} == {**english, "message": ""}
    assert chinese["message"] == (
        "必须是 'self'、'after_raised_hand'或'host_only'；实际为 字符串 \"whenever\""
    )


def test_the_did_you_mean_hint_survives_in_every_language() -> None:
    [issue] = _refused(lambda: validate_case_file(BAD_CASE_FILES[0]))
    assert issue.params["suggestion"] == "allowed"
    assert "did you mean 'allowed'?" in issue_text(issue, "en")
    assert "您是不是想写 'allowed'？" in issue_text(issue, "zh-CN")


def test_a_listing_names_the_first_three_then_how_many_more() -> None:
    issues = _refused(
        lambda: load_policy(
            b'{"entry": {"locked": "off", "max_participants": 0}, "name": 7,'
            b' "audio": {"unmute": "x"}, "chat": {"allowed": 3}}'
        )
    )
    assert len(issues) == 5
    english = issues_listed(issues, "en")
    assert english.startswith("/name: expected a string, got the number 7; /entry/locked: ")
    assert english.endswith("; and 2 more")
    chinese = issues_listed(issues, "zh-CN")
    assert chinese.startswith("/name：应为字符串，实际为 数字 7；/entry/locked：应为 true 或 false")
    assert chinese.endswith("；还有 2 个")
