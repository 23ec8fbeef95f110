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
``expect`` may also hold ``message_contains``, ``effects`` (each a subset of
an effect's JSON, such as ``{effect: open_gate, source: microphone}``),
``no_effects`` (likewise, none may match) and ``state`` (fields of
participants afterwards, or ``absent`` for someone no longer there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from .decision import Decision
from .errors import PolicyError, PolicyIssue
from .events import EVENT_ADAPTER, Event
from .jsonload import parse_json
from .model import Policy
from .simulation import Simulation, Step

__all__ = ["Case", "CaseResult", "parse_cases", "parse_events", "run_case", "run_cases"]


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


@dataclass(frozen=True)
class Case:
    name: str
    given: list[dict[str, Any]]
    when: dict[str, Any]
    expect: dict[str, Any]


@dataclass
class CaseResult:
    name: str
    passed: bool
    differences: list[str] = field(default_factory=list)
    actual: Decision | None = None
    rules: set[str] = field(default_factory=set)
    """Rule pointers of every decision made while running the case (for coverage)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "differences": self.differences,
            "actual": self.actual.to_json() if self.actual else None,
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
    raw_cases = document.get("cases") if isinstance(document, dict) else document
    if not isinstance(raw_cases, list):
        raise PolicyError([PolicyIssue("/cases", "wrong_type", "a case file holds a list 'cases'")])
    cases: list[Case] = []
    issues: list[PolicyIssue] = []
    for index, raw in enumerate(raw_cases):
        where = f"/cases/{index}"
        if not isinstance(raw, dict):
            issues.append(PolicyIssue(where, "wrong_type", "each case is an object"))
            continue
        unknown = set(raw) - {"name", "given", "when", "expect"}
        if unknown:
            issues.append(PolicyIssue(where, "unknown_field", f"unknown keys: {sorted(unknown)}"))
        given = raw.get("given", [])
        when, expect = raw.get("when"), raw.get("expect")
        if (
            not isinstance(given, list)
            or not isinstance(when, dict)
            or not isinstance(expect, dict)
        ):
            issues.append(
                PolicyIssue(
                    where,
                    "wrong_type",
                    "a case needs 'when' and 'expect' objects and a 'given' list",
                )
            )
            continue
        cases.append(Case(str(raw.get("name", f"case {index + 1}")), given, when, expect))
    if issues:
        raise PolicyError(issues)
    return cases


def _event(raw: dict[str, Any], now: float) -> Event:
    body = dict(raw)
    body.setdefault("at", now)
    if body.get("type") == "policy_update" and isinstance(body.get("policy"), dict):
        body["policy"] = body["policy"]
    return EVENT_ADAPTER.validate_json(json.dumps(body))


def _run(sim: Simulation, raw: dict[str, Any]) -> list[Step]:
    if raw.get("type") == "clock":
        to = raw.get("at", sim.now + float(raw.get("advance", 0)))
        return sim.advance(float(to))
    return sim.step(_event(raw, sim.now))


def parse_events(lines: list[dict[str, Any]]) -> list[Event]:
    """Validates events given as JSON objects (``at`` defaults to the previous event's)."""
    now = 0.0
    parsed: list[Event] = []
    for raw in lines:
        event = _event(raw, now)
        now = event.at
        parsed.append(event)
    return parsed


def _matches(effect: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(effect.get(key) == value for key, value in wanted.items())


def _compare(expect: dict[str, Any], decision: Decision, sim: Simulation) -> list[str]:
    actual = decision.to_json()
    out: list[str] = []
    for key in ("allowed", "reason", "rule"):
        if key in expect and expect[key] != actual[key]:
            out.append(f"{key}: expected {expect[key]!r}, got {actual[key]!r}")
    if "message_contains" in expect and str(expect["message_contains"]) not in decision.message:
        out.append(
            f"message: expected it to contain {expect['message_contains']!r}, "
            f"got {decision.message!r}"
        )
    for wanted in expect.get("effects", []):
        if not any(_matches(effect, wanted) for effect in actual["effects"]):
            out.append(f"effects: expected one matching {wanted}, none did")
    for unwanted in expect.get("no_effects", []):
        if any(_matches(effect, unwanted) for effect in actual["effects"]):
            out.append(f"effects: expected none matching {unwanted}, one did")
    for participant_id, fields in expect.get("state", {}).items():
        person = sim.state.get(participant_id)
        if fields == "absent":
            if person is not None:
                out.append(f"state/{participant_id}: expected absent, is {person.status}")
            continue
        if person is None:
            out.append(f"state/{participant_id}: expected present, is absent")
            continue
        for name, value in fields.items():
            got = getattr(person, name, None)
            if isinstance(got, frozenset):
                got = sorted(got)
            if got != value:
                out.append(f"state/{participant_id}/{name}: expected {value!r}, got {got!r}")
    return out


def run_case(policy: Policy, case: Case) -> CaseResult:
    sim = Simulation.start(policy)
    result = CaseResult(case.name, passed=False)
    try:
        for index, raw in enumerate(case.given):
            try:
                for step in _run(sim, raw):
                    result.rules.add(step.decision.rule)
            except ValidationError as error:
                result.differences.append(f"given/{index}: not a valid event: {_first(error)}")
                return result
        try:
            steps = _run(sim, case.when)
        except ValidationError as error:
            result.differences.append(f"when: not a valid event: {_first(error)}")
            return result
    except (TypeError, ValueError) as error:
        result.differences.append(f"the case cannot run: {error}")
        return result
    result.rules.update(step.decision.rule for step in steps)
    if not steps:
        result.differences.append("when: no decision was made (no timer was due by then)")
        return result
    result.actual = steps[-1].decision
    result.differences += _compare(case.expect, result.actual, sim)
    result.passed = not result.differences
    return result


def _first(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = "/".join(str(part) for part in detail["loc"])
    return f"{where}: {detail['msg']}" if where else detail["msg"]


def run_cases(policy: Policy, cases: list[Case]) -> list[CaseResult]:
    return [run_case(policy, case) for case in cases]
