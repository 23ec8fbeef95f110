"""Fuzz target for the policy a host writes: ``policy``.

An input is the text of a policy document (bytes that are not UTF-8 are held as
surrogate escapes, so the corpus keeps them). It goes where a host's document
goes: ``load_policy`` on the bytes (as the REST API and the CLI read a body or a
file) and on the text. The promise is a Policy, or a PolicyError whose every
issue has a JSON pointer, a code and a sentence; never another exception; and
no input that grows the process by more than ``MEMORY_LIMIT`` (the reader
refuses a document over its size and depth caps before it parses it,
``policies/jsonload.py``).

A valid policy then goes where the server takes it: stored as JSON and read back
when the Room loads (the same policy again), explained rule by rule, and put to
the engine: a host and a guest join under it, and a meeting running the
default policy switches to it. A rule that fails is refused by the engine
rather than raised; here that refusal (``rule_error``) counts as a crash, since
it means a valid policy the engine cannot decide.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

from meetwarden.policies.apply import apply
from meetwarden.policies.engine import decide
from meetwarden.policies.errors import PolicyError
from meetwarden.policies.events import Event, JoinRequested, PolicyUpdateRequested
from meetwarden.policies.explain import explain
from meetwarden.policies.jsonload import MAX_DOCUMENT_BYTES, parse_json
from meetwarden.policies.loading import load_policy, validate_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.reasons import Reason
from meetwarden.policies.state import MeetingState
from meetwarden.server.i18n import LANGUAGES, explanation_text

from .harness import CrashError, Harness, Target, mutated_text
from .json_mutations import json_documents, mutated_json

__all__ = ["POLICY", "policy_seeds"]

EXAMPLES = Path(__file__).resolve().parents[2] / "policies" / "examples"
MEMORY_LIMIT = 64 * 1024 * 1024


def _check_refusal(error: PolicyError) -> None:
    if not error.issues:
        raise CrashError("a PolicyError without issues")
    for issue in error.issues:
        if not isinstance(issue.pointer, str) or issue.pointer[:1] not in ("", "/"):
            raise CrashError(f"an issue whose pointer is not a JSON pointer: {issue!r}")
        if not issue.code or not issue.message:
            raise CrashError(f"an issue without a code or a sentence: {issue!r}")


def _decide(policy: Policy, state: MeetingState, events: Sequence[Event]) -> None:
    for event in events:
        decision = decide(policy, state, event)
        if decision.reason is Reason.RULE_ERROR:
            raise CrashError(f"the engine's rule failed on {event.type}: {decision.params}")
        policy, state = apply(policy, state, decision, at=event.at)


_HOST = JoinRequested(participant="h", name="Alice Host", role="host", identities=("device:h",))
_GUEST = JoinRequested(
    participant="g", name="Bob Smith", identities=("device:g",), source="network-1"
)


def _use(raw: bytes, policy: Policy) -> None:
    """What the server does with a valid policy after reading it."""
    stored = json.dumps(parse_json(raw))  # the registry keeps the document as JSON text
    if validate_policy(json.loads(stored)) != policy:
        raise CrashError("the stored policy reads back as a different policy")
    for line in explain(policy):
        for language in LANGUAGES:  # every rule reads in every language the server has
            sentence = explanation_text(line, language)
            if not line.rule.startswith("/") or not sentence or "{" in sentence:
                raise CrashError(f"explain gave {line.rule!r}: {sentence!r} ({language})")
    _decide(policy, MeetingState.initial(policy), [_HOST, _GUEST])
    running = Policy()
    state = MeetingState.initial(running)
    for join in (_HOST, _GUEST):
        running, state = apply(running, state, decide(running, state, join), at=join.at)
    _decide(running, state, [PolicyUpdateRequested(actor="h", policy=policy)])


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Policy(Harness[str]):
    async def run(self, data: str) -> None:
        raw = data.encode("utf-8", "surrogateescape")
        before = _peak_rss()
        for document in (raw, data):  # a body or a file; text already decoded
            try:
                policy = load_policy(document)
            except PolicyError as error:
                _check_refusal(error)
                continue
            if document is raw:
                _use(raw, policy)
        grown = _peak_rss() - before
        if grown > MEMORY_LIMIT:
            raise CrashError(f"one policy document grew the process by {grown >> 20} MiB")


async def _policy() -> Harness[str]:
    return _Policy()


def _padded_to_the_cap(seed: str, over: int) -> str:
    """The seed with whitespace up to the size cap, give or take a byte."""
    size = len(seed.encode("utf-8", "surrogateescape"))
    return seed + " " * max(0, MAX_DOCUMENT_BYTES - size + over)


def _strategy(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    mutated = mutated_json(seeds)
    return st.one_of(
        st.sampled_from(list(seeds)),
        mutated,
        mutated,
        mutated_text(seeds),
        json_documents(),
        st.builds(_padded_to_the_cap, st.sampled_from(list(seeds)), st.integers(-1, 1)),
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    )


def policy_seeds() -> dict[str, bytes]:
    """Every example policy, and documents at each edge the reader guards."""
    seeds = {f"example-{path.stem}": path.read_bytes() for path in EXAMPLES.glob("*.json")}
    every_field = Policy().model_dump(mode="json")
    every_field["screen_share"]["allowed"] = every_field["file_share"]["allowed"] = "with_grant"
    seeds["every-field"] = json.dumps(every_field, indent=2).encode()
    seeds["empty-object"] = b"{}"
    seeds["empty"] = b""
    seeds["not-an-object"] = b'[{"entry": {}}]'
    seeds["deep-nesting"] = b'{"entry": ' + b"[" * 40 + b"]" * 40 + b"}"
    seeds["duplicate-keys"] = b'{"chat": {"allowed": "everyone", "allowed": "nobody"}}'
    seeds["huge-numbers"] = (
        b'{"entry": {"max_participants": 1e400, "reconnect_seconds": '
        + b"9" * 40
        + b'}, "file_share": {"max_bytes": 1073741825}}'
    )
    seeds["nan"] = b'{"file_share": {"max_bytes": NaN}, "entry": {"max_participants": -Infinity}}'
    seeds["bom"] = '\ufeff{"name": "with a byte order mark"}'.encode()
    seeds["not-utf8"] = b'{"name": "caf\xe9", "entry": {"full_name": {"blocked_words": ["\xff"]}}}'
    seeds["lone-surrogates"] = (
        b'{"name": "\\ud800", "entry": {"full_name": {"blocked_words": ["\\udcff", "a"]}}}'
    )
    seeds["wrong-types-and-unknown-fields"] = (
        b'{"entry": {"waiting_room": true, "locked": "no"}, "audio": {"unmute": "sometimes"}, '
        b'"screen_share": {"surfaces": "window"}, "colour": "red", "version": 2}'
    )
    seeds["contradictions"] = (
        b'{"entry": {"camera": {"required": true, "min_fps": 0}, '
        b'"waiting_room": {"enabled": false, "bypass": ["invited"]}}, '
        b'"screen_share": {"grant_minutes": 5}, '
        b'"file_share": {"allowed": "anyone", "types": ["application/x-msdownload", "pdf"]}}'
    )
    seeds["lookalike-words"] = (
        '{"entry": {"full_name": {"blocked_words": ["Ηost", "host"], "min_words": 8, '
        '"max_length": 8}}}'.encode()
    )
    return seeds


POLICY = Target("policy", True, _policy, _strategy)
