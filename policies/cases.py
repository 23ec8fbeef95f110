"""Policy unit tests: case files of events and the decisions they expect.

Like ``opa test`` for Rego: each case replays ``given`` events, then checks
the decision on ``when`` against ``expect``. Case files are JSON or YAML::

    cases:
      - name: a guest waits for the host
        given:
          - {type: join_requested, participant: alice, name: Alice Host, role: host}
        when: {type: join_requested, participant: bob, name: Bob Smith}
        expect: {allowed: true, reason: waiting_for_host, rule: /entry/waiting_room/enabled}

``{type: clock, at: 901}`` moves the clock and fires due timers (grant
expiry, camera checks); as ``when`` it checks the last decision a timer made.
``expect`` may also hold ``params`` (parameters of the decision's sentence that
must be equal), ``message_contains`` (text of its English sentence; the sentence is
written from the message catalogs, so the caller passes ``render``), ``effects`` (each a subset of
an effect's JSON, such as ``{effect: open_gate, source: microphone}``),
``no_effects`` (likewise, none may match) and ``state`` (fields of
participants afterwards, or ``absent`` for someone no longer there).

Case files are validated as strictly as policies (``case_model``): an unknown key,
event type, effect name or reason code is an error naming its JSON pointer, never a
check that silently passes. docs/policy-testing.md lists the vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from .case_model import Case, CaseStep, Clock, Expect, validate_case_file
from .decision import Decision
from .effects import json_value
from .errors import PolicyError, PolicyIssue
from .events import EVENT_ADAPTER, Event
from .jsonload import parse_json
from .model import Policy
from .simulation import Simulation, Step

__all__ = [
    "Case",
    "CaseResult",
    "Render",
    "parse_cases",
    "parse_events",
    "run_case",
    "run_cases",
]


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses duplicate keys, as the JSON reader does."""


def _mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice; keep one", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass
class CaseResult:
    name: str
    passed: bool
    differences: list[str] = field(default_factory=list)
    actual: Decision | None = None
    rules: set[str] = field(default_factory=set)
    """Rule pointers of every decision made while running the case (for coverage)."""
    source: str = ""
    """The case file the case came from, when known."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.source,
            "passed": self.passed,
            "differences": self.differences,
            "actual": self.actual.to_json() if self.actual else None,
            "rules": sorted(self.rules),
        }


def parse_cases(data: bytes, *, yaml_format: bool = False) -> list[Case]:
    """Reads a JSON or YAML case file's bytes; a malformed file raises PolicyError."""
    if yaml_format:
        try:
            document = yaml.load(data.decode("utf-8"), Loader=_UniqueKeyLoader)
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise PolicyError([PolicyIssue("", "not_yaml", f"not valid YAML: {error}")]) from None
    else:
        document = parse_json(data, max_bytes=4 * 1024 * 1024)
    return list(validate_case_file(document).cases)


def _timed(event: Event, now: float) -> Event:
    """The event at ``now`` when the case gave no ``at``."""
    return event if "at" in event.model_fields_set else event.model_copy(update={"at": now})


def _run(sim: Simulation, step: CaseStep) -> list[Step]:
    if isinstance(step, Clock):
        to = step.at if step.at is not None else sim.now + (step.advance or 0.0)
        return sim.advance(to)
    return sim.step(_timed(step, sim.now))


def parse_events(lines: list[dict[str, Any]]) -> list[Event]:
    """Validates events given as JSON objects (``at`` defaults to the previous event's)."""
    now = 0.0
    parsed: list[Event] = []
    for raw in lines:
        event = _timed(EVENT_ADAPTER.validate_json(json.dumps(raw)), now)
        now = event.at
        parsed.append(event)
    return parsed


def _matches(effect: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(effect.get(key) == value for key, value in wanted.items())


def _shown(effects: list[dict[str, Any]]) -> str:
    lines = [json.dumps(effect, ensure_ascii=False) for effect in effects]
    return "\n".join(f"      {line}" for line in lines) if lines else "      (none)"


Render = Callable[[Decision], str]
"""Writes a decision's sentence in English (``meetwarden.server.i18n`` has one)."""


def _compare(
    expect: Expect, decision: Decision, sim: Simulation, render: Render | None
) -> list[str]:
    actual = decision.to_json()
    wanted_checks = expect.model_dump(mode="json", exclude_unset=True)
    out: list[str] = []
    for key in ("allowed", "reason", "rule"):
        if key in wanted_checks and wanted_checks[key] != actual[key]:
            out.append(f"{key}: expected {wanted_checks[key]!r}, got {actual[key]!r}")
    for key, value in (expect.params or {}).items():
        got = actual["params"].get(key)
        if got != value:
            out.append(f"params/{key}: expected {value!r}, got {got!r}")
    if expect.message_contains is not None:
        if render is None:
            out.append("message_contains: no message catalog was given to write the sentence")
        elif expect.message_contains not in (message := render(decision)):
            out.append(
                f"message: expected it to contain {expect.message_contains!r}, got {message!r}"
            )
    effects_differ = False
    for pattern in expect.effects:
        wanted = pattern.model_dump(mode="json", exclude_unset=True)
        if not any(_matches(effect, wanted) for effect in actual["effects"]):
            out.append(f"effects: expected one matching {json.dumps(wanted)}, none did")
            effects_differ = True
    for pattern in expect.no_effects:
        unwanted = pattern.model_dump(mode="json", exclude_unset=True)
        if any(_matches(effect, unwanted) for effect in actual["effects"]):
            out.append(f"effects: expected none matching {json.dumps(unwanted)}, one did")
            effects_differ = True
    if effects_differ:
        out.append("    the actual effects were:\n" + _shown(actual["effects"]))
    for participant_id, pattern in expect.state.items():
        person = sim.state.get(participant_id)
        if not isinstance(pattern, BaseModel):  # "absent"
            if person is not None:
                out.append(f"state/{participant_id}: expected absent, is {person.status}")
            continue
        if person is None:
            out.append(f"state/{participant_id}: expected present, is absent")
            continue
        fields = pattern.model_dump(mode="json", exclude_unset=True)
        for name, value in fields.items():
            got = json_value(getattr(person, name, None))
            if got != value:
                out.append(f"state/{participant_id}/{name}: expected {value!r}, got {got!r}")
    return out


def run_case(
    policy: Policy, case: Case, source: str = "", render: Render | None = None
) -> CaseResult:
    """Replays ``given``, decides ``when`` and compares the last decision with ``expect``
    (``render`` writes a decision's English sentence, for ``message_contains``)."""
    sim = Simulation.start(policy)
    result = CaseResult(case.name, passed=False, source=source)
    for step in case.given:
        result.rules.update(taken.decision.rule for taken in _run(sim, step))
    steps = _run(sim, case.when)
    result.rules.update(step.decision.rule for step in steps)
    if not steps:
        result.differences.append("when: no decision was made (no timer was due by then)")
        return result
    result.actual = steps[-1].decision
    result.differences += _compare(case.expect, result.actual, sim, render)
    result.passed = not result.differences
    return result


def run_cases(
    policy: Policy, cases: list[Case], source: str = "", render: Render | None = None
) -> list[CaseResult]:
    return [run_case(policy, case, source, render) for case in cases]
