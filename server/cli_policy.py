"""``meetwarden policy ...``: what a host uses to check, read, replay and test a policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError

from meetwarden.policies.capabilities import Capabilities, unsupported
from meetwarden.policies.effects import SetPolicy
from meetwarden.policies.errors import PolicyError, PolicyIssue, counted
from meetwarden.policies.events import EVENT_ADAPTER, EVENT_TYPES
from meetwarden.policies.explain import explain
from meetwarden.policies.jsonload import parse_json
from meetwarden.policies.loading import load_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.simulation import Simulation

from .cli_cases import case_schema_command, run_policy_tests
from .cli_reading import policy_or_exit, read_file
from .i18n import LANGUAGES, decision_text, explanation_text, supported

app = typer.Typer(help="Check, explain, replay and test meeting policies.", no_args_is_help=True)

CAPABILITIES_TIMEOUT = 10.0
"""Seconds ``check --server`` waits for the server's answer."""
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _capabilities(server: str) -> Capabilities:
    """What the server at ``server`` can do (``GET /api/capabilities``), or exit 2 saying why."""
    url = server.rstrip("/") + "/api/capabilities"
    try:
        response = httpx.get(url, timeout=CAPABILITIES_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as error:
        typer.echo(f"could not reach {url}: {error}", err=True)
        raise typer.Exit(2) from None
    if response.status_code != 200:
        typer.echo(
            f"{url} answered {response.status_code}: is this a meetwarden server "
            "that describes its capabilities?",
            err=True,
        )
        raise typer.Exit(2)
    try:
        return Capabilities.model_validate_json(response.content)
    except ValidationError as error:
        typer.echo(f"{url} did not answer a capability description: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Policy files to validate.")],
    as_json: JsonFlag = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="URL",
            help="Also check each policy against what the server at URL can do "
            "(its /api/capabilities: a malware scanner, media, the largest upload).",
        ),
    ] = None,
) -> None:
    """Validate policies: exit 0 when all are valid, 1 when any is not, listing every error.

    With --server, a valid policy that asks what that server cannot do (file_share.scan
    on a server without clamd, say) is reported with how to fix it, and the exit is 1.
    """
    capabilities = _capabilities(server) if server else None
    report: list[dict[str, Any]] = []
    for path in files:
        try:
            policy = load_policy(read_file(path))
        except PolicyError as error:
            errors = [issue.to_json() for issue in error.issues]
            report.append({"file": str(path), "valid": False, "errors": errors})
            continue
        entry: dict[str, Any] = {"file": str(path), "valid": True, "errors": []}
        if capabilities is not None:
            problems = unsupported(policy, capabilities)
            entry["supported"] = not problems
            entry["unsupported"] = [problem.to_json() for problem in problems]
        report.append(entry)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for entry in report:
            if not entry["valid"]:
                typer.echo(f"{entry['file']}: {counted(len(entry['errors']), 'error')}")
                _echo_issues(entry["errors"])
            elif entry.get("unsupported"):
                count = counted(len(entry["unsupported"]), "problem")
                typer.echo(f"{entry['file']}: valid, but {server} cannot do what it asks ({count})")
                _echo_issues(entry["unsupported"])
            else:
                typer.echo(f"{entry['file']}: valid" + (f" for {server}" if server else ""))
    if not all(entry["valid"] and entry.get("supported", True) for entry in report):
        raise typer.Exit(1)


def _echo_issues(issues: list[dict[str, str]]) -> None:
    for issue in issues:
        typer.echo(f"  {issue['pointer'] or '/'}: {issue['message']} [{issue['code']}]")


@app.command("explain")
def explain_command(
    file: Annotated[Path, typer.Argument(help="A policy file.")],
    lang: Annotated[
        str,
        typer.Option(
            "--lang", help=f"The language to explain it in: {', '.join(LANGUAGES)} (en default)."
        ),
    ] = "en",
) -> None:
    """Say what a policy will do, in plain words, rule by rule."""
    language = supported(lang)
    if language is None:
        typer.echo(f"--lang: {lang!r} is not one of {', '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)
    policy = policy_or_exit(file)
    if policy.name:
        typer.echo(f"{policy.name}\n")
    for line in explain(policy):
        typer.echo(f"- {explanation_text(line, language)}  ({line.rule})")


@app.command()
def schema() -> None:
    """Print the policy's JSON Schema, for editors to complete and check policies."""
    typer.echo(json.dumps(Policy.model_json_schema(), indent=2))


def _event_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    lines: list[tuple[int, dict[str, Any]]] = []
    text = read_file(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        try:
            value = parse_json(line)
        except PolicyError as error:
            raise PolicyError(
                [PolicyIssue(f"line {number}", i.code, i.message) for i in error.issues]
            ) from None
        if not isinstance(value, dict):
            raise PolicyError(
                [PolicyIssue(f"line {number}", "wrong_type", "each line is one JSON object")]
            )
        # Audit-log exports carry the event under "event" beside the recorded decision.
        lines.append((number, value))
    return lines


def _describe(step_event: Any) -> str:
    who = getattr(step_event, "participant", None) or getattr(step_event, "actor", "")
    return f"{step_event.type} {who}".strip()


def _replaced_revision(lines: list[tuple[int, dict[str, Any]]], index: int) -> int | None:
    """The policy revision an audit export records after its policy_update at ``index``."""
    before = lines[index][1].get("policy_revision")
    for _, later in lines[index + 1 :]:
        revision = later.get("policy_revision")
        if isinstance(revision, int) and revision != before:
            return revision
    return None


def _replacement_notice(file: Path, number: int, revision: int | None) -> str:
    which = f"policy revision {revision}" if revision is not None else "the policy it carries"
    return (
        f"line {number}: a policy_update replaces {file} with {which}: from this line on, "
        f"decisions are that policy's, not {file}'s (--keep-policy keeps {file} throughout)"
    )


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="A policy file.")],
    events: Annotated[Path, typer.Argument(help="JSON Lines of events, or an audit-log export.")],
    as_json: JsonFlag = False,
    keep_policy: Annotated[
        bool,
        typer.Option(
            "--keep-policy",
            help="Skip the policy_update lines, so the policy under test decides every line.",
        ),
    ] = False,
) -> None:
    """Replay events through the engine and print each decision (timers fire on time).

    Lines of an audit-log export also carry the decision recorded then; where today's
    policy decides differently the line is flagged, and the exit code is 1.
    A policy_update line replaces the policy under test from that line on, as it did in
    the meeting; the output says so, and --keep-policy skips such lines instead.
    """
    policy = policy_or_exit(file)
    try:
        lines = _event_lines(events)
    except PolicyError as error:
        for issue in error.issues:
            typer.echo(f"{events}: {issue.pointer}: {issue.message}", err=True)
        raise typer.Exit(2) from None
    sim = Simulation.start(policy)
    changed = 0
    replaced_at: list[str] = []
    for index, (number, raw) in enumerate(lines):
        body = raw.get("event", raw)
        recorded = raw.get("decision") if "event" in raw else None
        if recorded is not None and body.get("type") not in EVENT_TYPES:
            continue  # recorded by the server beside the engine's decisions (file downloads)
        if keep_policy and body.get("type") == "policy_update":
            note = f"line {number}: policy_update skipped: {file} decides every line"
            if as_json:
                typer.echo(json.dumps({"line": number, "skipped": "policy_update"}))
            else:
                typer.echo(f"[{note}]")
            continue
        try:
            if body.get("type") == "clock":
                steps = sim.advance(float(body.get("at", sim.now + float(body.get("advance", 0)))))
            else:
                body = {**body}
                body.setdefault("at", sim.now)
                steps = sim.step(EVENT_ADAPTER.validate_json(json.dumps(body)))
        except (ValidationError, TypeError, ValueError) as error:
            typer.echo(f"{events}: line {number}: not a valid event: {error}", err=True)
            raise typer.Exit(2) from None
        for step in steps:
            decision = step.decision.to_json()
            decision["message"] = decision_text(step.decision, "en")
            differs = (
                not step.by_timer
                and recorded is not None
                and (recorded.get("allowed"), recorded.get("reason"))
                != (decision["allowed"], decision["reason"])
            )
            changed += differs
            replaced = not step.by_timer and any(
                isinstance(effect, SetPolicy) for effect in step.decision.effects
            )
            revision = _replaced_revision(lines, index) if replaced else None
            if replaced:
                replaced_at.append(_replacement_notice(file, number, revision))
            if as_json:
                out = {"line": number, "timer": step.by_timer, "event": step.event.type, **decision}
                if differs:
                    out["recorded"] = recorded
                if replaced:
                    out["replaces_policy_under_test"] = {"revision": revision}
                typer.echo(json.dumps(out, ensure_ascii=False))
                continue
            verdict = "allowed" if decision["allowed"] else "REFUSED"
            origin = "timer" if step.by_timer else f"line {number}"
            typer.echo(
                f"[{origin}] t={step.event.at:g} {_describe(step.event)}: {verdict} "
                f"{decision['reason']} ({decision['rule'] or 'built-in'}): {decision['message']}"
            )
            for effect in decision["effects"]:
                if effect["effect"] == "set_policy":
                    effect = {"effect": "set_policy", "policy": "..."}
                typer.echo(f"    -> {json.dumps(effect, ensure_ascii=False)}")
            if differs and recorded is not None:
                typer.echo(
                    f"    !! recorded then: {recorded.get('reason')} "
                    f"(allowed={recorded.get('allowed')})"
                )
            if replaced:
                typer.echo(f"    !! {replaced_at[-1]}")
    for notice in replaced_at:
        typer.echo(f"note: {notice}", err=True)
    if changed:
        typer.echo(f"{changed} decision(s) differ from the recorded ones", err=True)
        raise typer.Exit(1)


app.command("test")(run_policy_tests)
app.command("case-schema")(case_schema_command)
