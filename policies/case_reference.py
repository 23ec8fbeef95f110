"""Generates docs/policy-testing.md and docs/cases.schema.json from the case models.

python -m meetwarden.policies.case_reference > docs/policy-testing.md
python -m meetwarden.policies.case_reference --schema > docs/cases.schema.json
(``make docs`` runs both, with the policy reference.)
"""

from __future__ import annotations

import json
import sys
from typing import Any, get_args

from pydantic import BaseModel

from .case_model import EFFECT_PATTERNS, Case, Clock, Expect, ParticipantPattern, case_schema
from .events import Event

__all__ = ["render", "render_schema"]

INTRO = """# Testing a policy

Policy unit tests are case files, the way `opa test` runs Rego tests. Each case
replays `given` (events, and clock steps that fire the timers due), decides `when`
and compares the decision with `expect`:

```yaml
# yaml-language-server: $schema=https://raw.githubusercontent.com/meetwarden/meetwarden/main/docs/cases.schema.json
cases:
  - name: a guest waits for the host
    given:
      - {type: join_requested, participant: alice, name: Alice Host, role: host}
    when: {type: join_requested, participant: bob, name: Bob Smith}
    expect:
      allowed: true
      reason: waiting_for_host
      rule: /entry/waiting_room/enabled
      effects: [{effect: add_participant, status: waiting}]
```

    meetwarden policy test POLICY CASES...        # files, or folders searched for *.cases.yaml/json
    meetwarden policy test POLICY DIR --run 'guest'  # only the cases whose name matches
    meetwarden policy test POLICY DIR --verbose      # every case and the decision it got
    meetwarden policy test POLICY DIR --coverage     # how many cases reached each rule
    meetwarden policy case-schema                    # this file format as JSON Schema

A case file is checked as strictly as a policy: an unknown key (`alowed`), event
type, effect name (`add_particpant`) or reason code is an error that names its JSON
pointer and what would be valid, so a typo never becomes a check that passes.
Event fields are those of the engine's events (below); `at` defaults to the time of
the step before. Top-level keys starting with `x-` are ignored: they hold YAML
anchors that cases reuse. The JSON Schema is
[cases.schema.json](cases.schema.json).

`--coverage` counts, for every rule path, the cases in which some decision (of
`given` or `when`, timers included) named exactly that path.

From pytest, `meetwarden.policies.testing.policy_cases(POLICY, CASES)` makes one
test per case, named after it:

```python
from meetwarden.policies.testing import policy_cases

test_board = policy_cases("policies/board.json", "policies/board.cases.yaml")
```
"""


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "oneOf" in schema:
        if schema.get("discriminator", {}).get("propertyName") == "effect":
            return "effect pattern (below)"
        return "an event or a clock step (below)"
    if "anyOf" in schema:
        kinds = [_type(s, defs) for s in schema["anyOf"] if s.get("type") != "null"]
        return " \\| ".join(kinds)
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}), defs)}"
    return str(schema.get("type", "value"))


def _rows(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema["properties"].items():
        if name in skip:
            continue
        field = model.model_fields.get(name)
        doc = ((field.description if field else None) or "").replace("\n", " ")
        mark = " (required)" if name in required else ""
        rows.append(f"`{name}`{mark}: {_type(prop, defs)}" + (f". {doc}" if doc else ""))
    return rows


def _table(title: str, models: list[tuple[str, type[BaseModel]]], skip: tuple[str, ...]) -> str:
    out = [title, "", "| name | fields | what it is |", "|---|---|---|"]
    for name, model in models:
        fields = "<br>".join(_rows(model, skip)) or "none"
        doc = " ".join((model.__doc__ or "").split("\n\n")[0].split())
        out.append(f"| `{name}` | {fields} | {doc} |")
    return "\n".join(out) + "\n"


def render() -> str:
    events = [
        (str(member.model_fields["type"].default), member)
        for member in get_args(get_args(Event)[0])
    ]
    out = [
        INTRO,
        _table("## A case", [("case", Case)], ()),
        _table("## What `expect` checks", [("expect", Expect)], ()),
        _table(
            "## Participant fields in `expect.state`",
            [("participant", ParticipantPattern)],
            (),
        ),
        _table(
            "## Events (`type`), for `given` and `when`", [*events, ("clock", Clock)], ("type",)
        ),
        _table(
            "## Effects (`effect`), for `expect.effects` and `expect.no_effects`\n\n"
            "A pattern matches an effect when every key it gives is equal.",
            list(EFFECT_PATTERNS.items()),
            ("effect",),
        ),
    ]
    return "\n".join(out)


def render_schema() -> str:
    return json.dumps(case_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_schema() if sys.argv[1:] == ["--schema"] else render(), end="")
