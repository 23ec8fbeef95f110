"""Every sentence a person reads, in their language: the edge where sentences are written.

The engine decides in codes (a reason and its parameters, a notice's topic, the
parts of an explanation); this package writes them as sentences from the
message catalogs, in English or Simplified Chinese. Nothing in ``policies/``
imports it (an import-linter contract in ``pyproject.toml`` says so).

- ``decision_text(decision, language)``: what a decision says
- ``reason_text(reason, params, language)``: the same from a code (the server's own
  codes, such as ``join_failed``, have sentences too)
- ``notice_text(topic, audience, kind, params, language)``: a notice
- ``explanation_text(explanation, language)``: one rule of a policy in plain words
- ``issue_text(issue, language)``: what one issue of a refused policy says;
  ``issue_json`` the issue as the wire carries it, ``issues_listed`` the first few
- ``say(language, english, **params)``: a sentence whose message id is its English
- ``client_catalog(language)``: the browser client's sentences, for ``/i18n/<tag>.json``
"""

from __future__ import annotations

import functools

from meetwarden.policies.decision import Decision
from meetwarden.policies.explain import Explanation
from meetwarden.policies.reasons import REASONS, Reason

from . import sentences
from .catalogs import catalog
from .issues import issue_json, issue_text, issues_listed
from .languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    from_accept_language,
    pick_language,
    supported,
)
from .rendering import AnyParams, AnyValue, keyed, plain, sentence_gap

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Language",
    "client_catalog",
    "decision_text",
    "english",
    "explanation_text",
    "from_accept_language",
    "issue_json",
    "issue_text",
    "issues_listed",
    "notice_text",
    "pick_language",
    "reason_text",
    "say",
    "sentences",
    "supported",
]


def reason_text(reason: str, params: AnyParams, language: Language) -> str:
    """What a reason code with these parameters says, in ``language``."""
    if not params:  # most decisions (a join, an admission): the same sentence every time
        return _reason_alone(reason, language)
    return _written(reason, params, language)


@functools.lru_cache(maxsize=1024)  # the codes are the server's own: a few hundred
def _reason_alone(reason: str, language: Language) -> str:
    return _written(reason, {}, language)


def _written(reason: str, params: AnyParams, language: Language) -> str:
    written = keyed(reason, params, language)
    if written is not None:
        return written
    if reason in Reason.__members__.values():  # a code without a sentence: its description
        return REASONS[Reason(reason)]
    return reason.replace("_", " ").capitalize() + "."


def decision_text(decision: Decision, language: Language) -> str:
    """The sentence of a decision, addressed to whoever acted."""
    return reason_text(decision.reason.value, decision.params, language)


def english(decision: Decision) -> str:
    """The sentence of a decision in English (for policy tests' ``message_contains``)."""
    return decision_text(decision, DEFAULT_LANGUAGE)


def notice_text(
    topic: str,
    audience: str,
    kind: str | None,
    params: AnyParams,
    language: Language,
) -> str:
    """A notice's sentence. A topic that is a reason code (a name the new policy refuses)
    reads as that reason; a topic with no sentence (views: roster_changed...) reads ""."""
    attributes = {"audience": audience, **({"kind": kind} if kind else {})}
    written = keyed(f"notice:{topic}", params, language, attributes)
    if written is None:
        written = keyed(topic, params, language, attributes)
    return written or ""


def explanation_text(explanation: Explanation, language: Language) -> str:
    """One rule of a policy in plain words: its sentences, one after another."""
    return sentence_gap(language).join(
        keyed(sentence.key, sentence.params, language) or sentence.key
        for sentence in explanation.sentences
    )


def say(language: Language, english: str, **params: AnyValue) -> str:
    """A sentence whose message id is its English text, in ``language``."""
    return plain(english, language, params)


def client_catalog(language: Language) -> dict[str, str]:
    """The sentences without a context (the client's ``t()``), English id -> sentence."""
    return dict(catalog(language).plain)
