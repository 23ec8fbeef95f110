"""Every sentence a person reads has a sentence in every catalog, and reads whole.

The engine decides in reason codes and parameters; the edge writes sentences from
the message catalogs (server/i18n/locales). These tests read the catalogs and the
sources as they are: they never rewrite a file (``make messages`` does that).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from meetwarden.policies import effects as fx
from meetwarden.policies.explain import explain
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.reasons import Reason
from meetwarden.policies.testing import Meeting
from meetwarden.server.i18n import (
    LANGUAGES,
    Language,
    decision_text,
    explanation_text,
    from_accept_language,
    notice_text,
    pick_language,
    reason_text,
    say,
)
from meetwarden.server.i18n.catalogs import po_path
from meetwarden.server.i18n.markers import SENTENCES
from meetwarden.server.runtime.telling import _VIEW_TOPICS

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\w+(?::[\w.]+)?\}")
ENDS = {"en": (".", "!", "?", ")"), "zh-CN": ("。", "！", "？", "）")}


def _catalog(language: Language) -> dict[tuple[str | None, str], str]:
    with po_path(language).open("rb") as file:
        messages = read_po(file)
    return {
        (m.context, m.id): "" if m.fuzzy else str(m.string)
        for m in messages
        if m.id and isinstance(m.id, str)
    }


CATALOGS = {language: _catalog(language) for language in LANGUAGES}


def _extracted() -> list[tuple[str | None, str, str]]:
    """(context, msgid, where) of every sentence in the sources, as ``make messages`` finds."""
    with (ROOT / "server/i18n/babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"M_": ((1, "c"), 2), "N_": None, "say": (2,), "t": None}
    found = []
    for filename, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message[-1] if isinstance(message, tuple) else message
        found.append((context, msgid, filename))
    return found


EXTRACTED = _extracted()


def test_every_reason_code_has_a_sentence_in_every_catalog() -> None:
    for reason in Reason:
        assert reason.value in SENTENCES, f"{reason.value} has no sentence (server/i18n)"
        for language, catalog in CATALOGS.items():
            written = catalog.get((reason.value, SENTENCES[reason.value]))
            assert written, f"{reason.value} has no {language} sentence: run `make messages`"


def test_every_sentence_of_the_sources_has_a_sentence_in_every_catalog() -> None:
    assert any(where.endswith(".js") for *_, where in EXTRACTED), "the client's t() are found"
    assert any(where.endswith(".html") for *_, where in EXTRACTED), "the pages' texts are found"
    missing = [
        f"{language}: {msgid!r} ({where})"
        for context, msgid, where in EXTRACTED
        for language, catalog in CATALOGS.items()
        if not catalog.get((context, msgid))
    ]
    assert not missing, "untranslated (run `make messages`, then translate):\n" + "\n".join(missing)


def test_every_keyed_sentence_is_the_one_the_sources_declare() -> None:
    declared = {(key, english) for key, english in SENTENCES.items()}
    extracted = {(context, msgid) for context, msgid, _ in EXTRACTED if context}
    assert declared == extracted


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_keeps_every_placeholder_of_its_message(language: Language) -> None:
    for (context, msgid), text in CATALOGS[language].items():
        if text:
            wanted = sorted(PLACEHOLDER.findall(msgid))
            assert sorted(PLACEHOLDER.findall(text)) == wanted, (context, msgid, text)


def test_chinese_is_written_with_chinese_punctuation() -> None:
    for (_, msgid), text in CATALOGS["zh-CN"].items():
        if text and msgid.endswith(".") and len(msgid) > 12:
            assert text.endswith(("。", "）", ")", "…")) or text == msgid, (msgid, text)
            assert ". " not in text, (msgid, text)
            assert "; " not in text, (msgid, text)


# --- writing: every scenario of every reason code, in every language ---------------


def _scenarios() -> list[tuple[Reason, dict[str, Any], list[Any], dict[str, Any]]]:
    path = ROOT / "tests/policies/test_reason_codes.py"
    spec = importlib.util.spec_from_file_location("reason_code_scenarios", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [row[:4] for row in module.SCENARIOS]


SCENARIOS = _scenarios()


def _decide(policy: dict[str, Any], given: list[Any], when: dict[str, Any]) -> Any:
    meeting = Meeting(policy)
    for event in given:
        meeting.clock(event["at"]) if event["type"] == "clock" else meeting.event(event)
    if when["type"] == "clock":
        return meeting.clock(when["at"])[-1]
    return meeting.event(when)


def _whole(text: str, language: Language) -> None:
    assert text, text
    assert "{" not in text, text
    assert "}" not in text, text
    assert text.endswith(ENDS[language]), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_decision_reads_as_whole_sentences(language: Language) -> None:
    for _, policy, given, when in SCENARIOS:
        decision = _decide(policy, given, when)
        _whole(decision_text(decision, language), language)
        for effect in decision.effects:
            if isinstance(effect, fx.Notify) and effect.topic not in _VIEW_TOPICS:
                notice = notice_text(
                    effect.topic, effect.audience, effect.kind, effect.params, language
                )
                _whole(notice, language)


def _policies() -> Iterator[dict[str, Any]]:
    yield {}
    for path in sorted((ROOT / "policies/examples").glob("*.json")):
        yield json.loads(path.read_text(encoding="utf-8"))
    yield {
        "entry": {
            "password": True,
            "locked": True,
            "identity": "invited",
            "waiting_room": {"enabled": False, "max_share_per_source": 1},
            "max_participants": 10,
            "full_name": {"required": False, "reject_lookalikes_of": ["host"]},
            "camera": {"required": True, "on_missing": "remove", "on_lost": "warn"},
        },
        "audio": {"mute_on_entry": False, "unmute": "self"},
        "screen_share": {
            "allowed": "with_grant",
            "surfaces": ["window", "browser", "monitor"],
            "audio": True,
        },
        "file_share": {"allowed": "anyone", "scan": True, "max_bytes": 1536},
        "chat": {"allowed": "nobody"},
        "removal": {"rejoin": "allowed"},
    }
    yield {
        "entry": {"waiting_room": {"bypass": ["cohost", "invited"]}, "full_name": {"min_words": 3}},
        "audio": {"unmute": "host_only"},
        "screen_share": {"allowed": "nobody"},
        "file_share": {"allowed": "with_grant"},
        "chat": {"allowed": "host_only"},
        "removal": {"rejoin": "via_waiting_room"},
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_policy_is_explained_in_whole_sentences(language: Language) -> None:
    for document in _policies():
        for line in explain(validate_policy(document)):
            _whole(explanation_text(line, language), language)


def test_chinese_reads_chinese_and_keeps_the_parameters() -> None:
    params = {"name": "Ada Lovelace", "kind": "screen", "seconds": 600}
    assert (
        reason_text("granted", params, "en")
        == "Ada Lovelace may share their screen for 10 minutes."
    )
    assert reason_text("granted", params, "zh-CN") == "Ada Lovelace 可以共享屏幕 10 分钟。"
    sizes = {"bytes": 3 * 1024 * 1024 // 2, "max_bytes": 1024 * 1024}
    assert reason_text("file_too_large", sizes, "en") == (
        "The file is 1.5 MB; files here can be at most 1 MB."
    )
    allowed = {"surface": "monitor", "allowed": ("window", "browser")}
    assert reason_text("surface_not_allowed", allowed, "en") == (
        "Share a window or a browser tab, not your whole screen."
    )
    assert reason_text("surface_not_allowed", allowed, "zh-CN") == (
        "请共享单个窗口或浏览器标签页，不要共享整个屏幕。"
    )


def test_a_plain_sentence_is_translated_and_an_unknown_one_stays_english() -> None:
    assert say("zh-CN", "Slow down: too many messages.") == "请慢一点：消息太多了。"
    assert say("zh-CN", "Not a sentence of ours.") == "Not a sentence of ours."


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-TW", "en"),
        ("zh-Hant", "en"),
        ("zh-HK", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("x" * 200, "en"),
    ],
)
def test_a_language_tag_picks_a_catalog_or_english(tag: str | None, language: str) -> None:
    assert pick_language(tag) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW,zh;q=0.9,en-US;q=0.8", "zh-CN"),
        ("zh-TW,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7", "zh-CN"),
        ("en;q=0.5,zh;q=0.9", "zh-CN"),
        ("zh;q=0", "en"),
        ("*", "en"),
        ("zh;q=nonsense, en", "en"),
        (",,;;==", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_accept_language_picks_the_best_language_we_have(header: str | None, language: str) -> None:
    assert from_accept_language(header) == language
