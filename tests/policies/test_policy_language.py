"""The policy a host writes: defaults, and every kind of bad input with its pointer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meetwarden.policies.errors import PolicyError
from meetwarden.policies.loading import load_policy, validate_policy
from meetwarden.policies.model import Policy

EXAMPLES = Path(__file__).parents[2] / "policies" / "examples"

ISSUE_EXAMPLE = {
    "version": 1,
    "name": "Quarterly board meeting",
    "entry": {
        "password": True,
        "waiting_room": {"enabled": True, "bypass": ["host", "cohost", "invited"]},
        "locked": False,
        "max_participants": 50,
        "full_name": {
            "required": True,
            "min_words": 2,
            "max_length": 64,
            "reject_lookalikes_of": ["host", "cohost"],
            "blocked_words": ["host", "admin", "moderator"],
        },
        "camera": {
            "required": True,
            "check_seconds": 10,
            "min_fps": 5,
            "on_missing": "waiting_room",
            "on_lost": "warn",
            "lost_grace_seconds": 15,
        },
    },
    "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"},
    "screen_share": {
        "allowed": "with_grant",
        "max_concurrent": 1,
        "grant_minutes": 15,
        "grant_ends_with_share": True,
        "surfaces": ["window"],
    },
    "file_share": {
        "allowed": "with_grant",
        "max_bytes": 10485760,
        "types": ["application/pdf", "image/png", "image/jpeg", "text/plain"],
        "grant_minutes": 15,
        "scan": False,
    },
    "chat": {"allowed": "everyone"},
    "removal": {"rejoin": "never"},
}


def _issues(document: bytes | str) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    return [(issue.pointer, issue.code) for issue in caught.value.issues]


def _message(document: bytes | str) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    return caught.value.issues[0].message


def test_the_policy_in_the_issue_is_valid_as_written() -> None:
    policy = load_policy(json.dumps(ISSUE_EXAMPLE))
    assert policy.screen_share.allowed == "with_grant"
    assert policy.entry.camera.min_fps == 5


def test_an_empty_policy_takes_the_private_defaults() -> None:
    policy = load_policy(b"{}")
    assert policy.entry.waiting_room.enabled
    assert policy.audio.mute_on_entry
    assert policy.screen_share.allowed == "host_only"
    assert policy.file_share.allowed == "host_only"
    assert policy.entry.full_name.required
    assert policy.removal.rejoin == "never"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_example_policy_is_valid(path: Path) -> None:
    load_policy(path.read_bytes())


def test_duplicate_keys_are_rejected_never_last_wins() -> None:
    doc = b'{"entry": {"waiting_room": {"enabled": true, "enabled": false}}}'
    assert _issues(doc) == [("/entry/waiting_room/enabled", "duplicate_key")]


def test_lax_coercion_is_refused_off_is_not_false() -> None:
    assert _issues(b'{"entry": {"locked": "off"}}') == [("/entry/locked", "wrong_type")]
    assert _issues(b'{"entry": {"locked": 0}}') == [("/entry/locked", "wrong_type")]
    assert 'the string "off"' in _message(b'{"entry": {"locked": "off"}}')


def test_unknown_fields_list_the_valid_ones() -> None:
    assert _issues(b'{"audio": {"mute_on_entr": true}}') == [
        ("/audio/mute_on_entr", "unknown_field")
    ]
    assert "mute_on_entry" in _message(b'{"audio": {"mute_on_entr": true}}')


def test_an_invalid_choice_says_which_are_valid() -> None:
    message = _message(b'{"audio": {"unmute": "sometimes"}}')
    assert "'self', 'after_raised_hand' or 'host_only'" in message


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b'{"entry": {"max_participants": 1e400}}', "not_finite"),
        (b'{"entry": {"max_participants": NaN}}', "not_finite"),
        (b'{"entry": {"max_participants": -Infinity}}', "not_finite"),
        (b'{"entry": {"max_participants": 100000000000000000000000000}}', "out_of_range"),
        (b'{"entry": {"max_participants": 1}}', "out_of_range"),
        (b'{"entry": {"max_participants": 1' + b"0" * 5000 + b"}}", "number_too_large"),
    ],
)
def test_out_of_range_and_non_finite_numbers_name_the_field(document: bytes, code: str) -> None:
    assert _issues(document) == [("/entry/max_participants", code)]


def test_over_deep_documents_are_refused_before_parsing() -> None:
    assert _issues(b"[" * 100_000 + b"]" * 100_000) == [("", "too_deep")]


def test_over_large_documents_are_refused() -> None:
    big = b'{"name": "' + b"x" * 300_000 + b'"}'
    assert _issues(big) == [("", "too_large")]


def test_a_file_that_is_not_utf8_json_is_refused() -> None:
    assert _issues(b"\xff\xfe{\x00}\x00") == [("", "not_utf8")]
    assert _issues(b"entry: {}") == [("", "not_json")]
    assert _issues(b"[]") == [("", "wrong_type")]


def test_every_error_is_listed_not_only_the_first() -> None:
    doc = b'{"entry": {"locked": "no", "max_participants": 0}, "chat": {"allowed": 3}}'
    assert sorted(_issues(doc)) == [
        ("/chat/allowed", "invalid_value"),
        ("/entry/locked", "wrong_type"),
        ("/entry/max_participants", "out_of_range"),
    ]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        (
            {"screen_share": {"allowed": "host_only", "grant_minutes": 5}},
            "/screen_share/grant_minutes",
        ),
        ({"file_share": {"allowed": "anyone", "grant_minutes": 5}}, "/file_share/grant_minutes"),
        ({"entry": {"camera": {"required": True, "min_fps": 0}}}, "/entry/camera/min_fps"),
        (
            {"entry": {"waiting_room": {"enabled": False, "bypass": ["invited"]}}},
            "/entry/waiting_room/bypass",
        ),
        ({"chat": {"allowed": "nobody", "private": "hosts"}}, "/chat/private"),
        ({"chat": {"allowed": "host_only", "private": "everyone"}}, "/chat/private"),
    ],
)
def test_contradictions_are_errors_at_the_field(document: dict[str, object], pointer: str) -> None:
    with pytest.raises(PolicyError) as caught:
        validate_policy(document)
    assert [(i.pointer, i.code) for i in caught.value.issues] == [(pointer, "contradiction")]


def test_private_chat_says_which_choices_are_valid_and_what_it_contradicts() -> None:
    assert "'off', 'hosts' or 'everyone'" in _message(b'{"chat": {"private": "yes"}}')
    contradiction = _message(b'{"chat": {"allowed": "nobody", "private": "everyone"}}')
    assert "set private to 'off' or remove it" in contradiction
    # Chat off with private messages off too, or left at its default, is no contradiction.
    assert validate_policy({"chat": {"allowed": "nobody", "private": "off"}})
    assert validate_policy({"chat": {"allowed": "nobody"}}).chat.private == "hosts"


def test_executables_cannot_be_listed_as_shareable() -> None:
    message = _message(b'{"file_share": {"types": ["application/x-dosexec"]}}')
    assert "never be shared" in message


def test_duplicates_in_lists_are_refused() -> None:
    assert _issues(b'{"screen_share": {"surfaces": ["window", "window"]}}') == [
        ("/screen_share/surfaces", "invalid_value")
    ]


def test_a_policy_never_holds_the_password_itself() -> None:
    assert _issues(b'{"entry": {"password": "hunter2"}}') == [("/entry/password", "wrong_type")]


def test_json_schema_names_every_field_with_a_description() -> None:
    schema = Policy.model_json_schema()
    entry = schema["$defs"]["Entry"]["properties"]
    assert set(entry) >= {
        "password",
        "waiting_room",
        "locked",
        "max_participants",
        "full_name",
        "camera",
    }
    camera = schema["$defs"]["Camera"]["properties"]
    assert all("description" in field for field in camera.values())
    assert camera["on_missing"]["enum"] == ["warn", "waiting_room", "remove"]
