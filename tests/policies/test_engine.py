"""The engine's own guarantees: pure, default deny, a failing rule refuses."""

from __future__ import annotations

import pytest

from meetwarden.policies import engine
from meetwarden.policies.engine import decide
from meetwarden.policies.events import HandRaised, JoinRequested
from meetwarden.policies.model import Policy
from meetwarden.policies.reasons import Reason
from meetwarden.policies.state import MeetingState
from meetwarden.server.i18n import decision_text


def test_the_same_inputs_give_the_same_decision() -> None:
    policy, state = Policy(), MeetingState()
    event = JoinRequested(participant="p", name="Bob Smith", at=3.0)
    assert decide(policy, state, event) == decide(policy, state, event)


def test_deciding_never_changes_the_state_it_was_given() -> None:
    state = MeetingState()
    decide(Policy(), state, JoinRequested(participant="p", name="Bob Smith"))
    assert state.participants == {}


def test_a_rule_that_fails_becomes_a_refusal_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(engine.RULES, HandRaised, broken)
    decision = decide(Policy(), MeetingState(), HandRaised(participant="p"))
    assert not decision.allowed
    assert decision.reason == Reason.RULE_ERROR
    assert decision.params == {"error": "KeyError"}
    assert "failed (KeyError)" in decision_text(decision, "en")
    assert decision.effects == ()


def test_an_event_no_rule_knows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(engine.RULES, HandRaised)
    decision = decide(Policy(), MeetingState(), HandRaised(participant="p"))
    assert (decision.allowed, decision.reason) == (False, Reason.RULE_ERROR)


def test_every_event_type_has_a_rule() -> None:
    from typing import get_args

    from meetwarden.policies.events import Event

    union = get_args(get_args(Event)[0])
    assert set(union) == set(engine.RULES)


def test_the_owner_acts_with_host_powers_from_outside_the_meeting() -> None:
    from meetwarden.policies.state import OWNER
    from meetwarden.policies.testing import Meeting

    meeting = Meeting({})
    meeting.join("bob", "Bob Smith")
    decision = meeting.event({"type": "admit", "actor": OWNER, "participant": "bob"})
    assert (decision.allowed, decision.reason) == (True, Reason.ADMITTED_BY_HOST)
    update = meeting.event({"type": "policy_update", "actor": OWNER, "policy": {}})
    assert update.allowed
    refused = meeting.event({"type": "admit", "actor": "bob", "participant": "bob"})
    assert refused.reason == Reason.NOT_A_HOST
