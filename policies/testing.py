"""Policy tests in Python, for teams that test their policies with pytest.

    from meetwarden.policies.testing import Meeting, expect, assert_cases_pass

    def test_guests_wait_for_the_host():
        meeting = Meeting("policies/board.json")
        meeting.join("alice", "Alice Host", role="host")
        decision = meeting.join("bob", "Bob Smith", password_ok=True)
        expect(decision, allowed=True, reason="waiting_for_host")

    def test_board_cases():
        assert_cases_pass("policies/board.json", "policies/board.cases.yaml")

    # one pytest test per case, named after it (a folder is searched for case files)
    test_board = policy_cases("policies/board.json", "policies/cases/")

Cases that check ``message_contains`` need the sentences, which the engine does not
have: pass ``render=meetwarden.server.i18n.english`` (the decision's English sentence,
from the message catalogs).

This is test tooling: unlike the engine, it reads the files it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .case_model import Case
from .cases import Render, parse_cases, run_case, run_cases
from .decision import Decision
from .events import EVENT_ADAPTER, Event
from .loading import load_policy, validate_policy
from .model import Policy
from .simulation import Simulation
from .state import MeetingState

__all__ = [
    "CASE_FILE_PATTERNS",
    "Meeting",
    "assert_cases_pass",
    "case_files",
    "expect",
    "policy_cases",
]

CASE_FILE_PATTERNS = ("*.cases.yaml", "*.cases.yml", "*.cases.json")
"""What a case file is called, when a folder is searched for them."""


def _policy(source: Policy | str | Path | dict[str, Any]) -> Policy:
    if isinstance(source, Policy):
        return source
    if isinstance(source, dict):
        return validate_policy(source)
    return load_policy(Path(source).read_bytes())


class Meeting:
    """A meeting driven by events, with timers firing as the clock moves."""

    def __init__(self, policy: Policy | str | Path | dict[str, Any]) -> None:
        self.simulation = Simulation.start(_policy(policy))
        self.decisions: list[Decision] = []

    @property
    def state(self) -> MeetingState:
        return self.simulation.state

    @property
    def policy(self) -> Policy:
        return self.simulation.policy

    @property
    def now(self) -> float:
        return self.simulation.now

    def event(self, event: Event | dict[str, Any]) -> Decision:
        """Decides one event (a model, or a dict like a case file's) and returns its decision."""
        if isinstance(event, dict):
            body = {"at": self.now, **event}
            event = EVENT_ADAPTER.validate_json(json.dumps(body))
        steps = self.simulation.step(event)
        self.decisions += [step.decision for step in steps]
        return steps[-1].decision

    def join(self, participant: str, name: str, **facts: Any) -> Decision:
        """Someone joins; ``facts`` are JoinRequested fields (role, password_ok, invited...)."""
        return self.event(
            {"type": "join_requested", "participant": participant, "name": name, **facts}
        )

    def clock(self, at: float) -> list[Decision]:
        """Moves the clock to ``at``; returns the decisions of the timers that fired."""
        steps = self.simulation.advance(at)
        self.decisions += [step.decision for step in steps]
        return [step.decision for step in steps]


def expect(
    decision: Decision,
    *,
    allowed: bool | None = None,
    reason: str | None = None,
    rule: str | None = None,
) -> None:
    """Fails with what differed between the expected and the actual decision."""
    differences = []
    if allowed is not None and decision.allowed != allowed:
        differences.append(f"allowed: expected {allowed}, got {decision.allowed}")
    if reason is not None and decision.reason != reason:
        differences.append(f"reason: expected {reason!r}, got {decision.reason.value!r}")
    if rule is not None and decision.rule != rule:
        differences.append(f"rule: expected {rule!r}, got {decision.rule!r}")
    if differences:
        raise AssertionError(
            "decision differs:\n  " + "\n  ".join(differences) + f"\n  params: {decision.params}"
        )


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files given, and the case files under each folder given (sorted, recursively)."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found += sorted({p for pattern in CASE_FILE_PATTERNS for p in given.rglob(pattern)})
        else:
            found.append(given)
    return found


def _read_cases(path: Path) -> list[Case]:
    return parse_cases(path.read_bytes(), yaml_format=path.suffix.lower() != ".json")


def policy_cases(
    policy: Policy | str | Path | dict[str, Any], *cases: str | Path, render: Render | None = None
) -> Callable[..., None]:
    """A pytest test run once per case (ids are the case names); assign it to a ``test_`` name.

    A case file that is not valid fails at collection, naming the file and the field.
    """
    import pytest  # test tooling: pytest is there when this runs

    under_test = _policy(policy)
    params = [
        pytest.param(path, case, id=case.name)
        for path in case_files(cases)
        for case in _read_cases(path)
    ]

    @pytest.mark.parametrize(("case_file", "case"), params)
    def test_policy_case(case_file: Path, case: Case) -> None:
        result = run_case(under_test, case, str(case_file), render)
        if not result.passed:
            raise AssertionError(f"{case_file}: {case.name}\n  " + "\n  ".join(result.differences))

    return test_policy_case


def assert_cases_pass(
    policy: Policy | str | Path, cases: str | Path, render: Render | None = None
) -> None:
    """Runs case files (or the case files in a folder) against a policy; fails listing every
    failing case and its diff (``render`` writes sentences, for ``message_contains``)."""
    parsed = [case for path in case_files([cases]) for case in _read_cases(path)]
    failures = [r for r in run_cases(_policy(policy), parsed, render=render) if not r.passed]
    if failures:
        lines = [f"{len(failures)} case(s) failed:"]
        for result in failures:
            lines.append(f"  {result.name}")
            lines += [f"    {difference}" for difference in result.differences]
        raise AssertionError("\n".join(lines))
