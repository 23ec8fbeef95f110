"""``meetwarden policy test`` and ``policy case-schema``: policy unit tests, like ``opa test``."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from meetwarden.policies.errors import PolicyError

from .cli_reading import policy_or_exit, read_file
from .i18n import decision_text

# The case machinery is imported by the commands that use it: its models take half a
# second to build, which every other command (`meetwarden serve` above all) would pay.
if TYPE_CHECKING:
    from meetwarden.policies.case_model import Case
    from meetwarden.policies.cases import CaseResult

__all__ = ["case_schema_command", "run_policy_tests"]


def _load(paths: list[Path]) -> list[tuple[Path, Case]]:
    """Every case of every file (folders searched for case files); exits 2 on any error."""
    from meetwarden.policies.cases import parse_cases
    from meetwarden.policies.testing import case_files

    loaded: list[tuple[Path, Case]] = []
    failed = False
    for path in case_files(paths):
        try:
            cases = parse_cases(read_file(path), yaml_format=path.suffix.lower() != ".json")
        except PolicyError as error:
            failed = True
            typer.echo(f"{path}: not a valid case file", err=True)
            for issue in error.issues:
                typer.echo(f"  {issue.pointer or '/'}: {issue.message}", err=True)
            continue
        loaded += [(path, case) for case in cases]
    if failed:
        raise typer.Exit(2)
    return loaded


def _print_result(result: CaseResult, verbose: bool) -> None:
    mark = "PASS" if result.passed else "FAIL"
    where = f" ({result.source})" if verbose and result.source else ""
    typer.echo(f"{mark}: {result.name}{where}")
    if verbose and result.actual is not None:
        decision = result.actual
        verdict = "allowed" if decision.allowed else "refused"
        typer.echo(f"    decision: {verdict} {decision.reason} ({decision.rule or 'built-in'})")
        for effect in decision.to_json()["effects"]:
            if effect["effect"] == "set_policy":
                effect = {"effect": "set_policy"}
            typer.echo(f"      -> {json.dumps(effect, ensure_ascii=False)}")
    for difference in result.differences:
        typer.echo(f"    {difference}")


def _case_json(result: CaseResult, english: Any) -> dict[str, Any]:
    """A case's result as JSON, the decision's sentence in English beside its reason."""
    found = result.to_json()
    if result.actual is not None:
        found["actual"]["message"] = english(result.actual)
    return found


def _print_coverage(counts: dict[str, int]) -> None:
    from meetwarden.policies.coverage import RULE_PATHS

    reached = [path for path in RULE_PATHS if counts[path]]
    typer.echo(f"coverage: {len(reached)}/{len(RULE_PATHS)} rule paths reached")
    for path, cases in counts.items():
        if cases:
            typer.echo(f"  {cases:4d} case(s)  {path or '(built-in rules)'}")
    for path in RULE_PATHS:
        if not counts[path]:
            typer.echo(f"  not reached: {path}")


def run_policy_tests(
    file: Annotated[Path, typer.Argument(help="The policy under test.")],
    cases: Annotated[
        list[Path],
        typer.Argument(help="Case files (.json, .yaml), or folders holding *.cases.* files."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Only the cases whose name matches this regular expression."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every case and the decision it got.")
    ] = False,
    coverage: Annotated[
        bool,
        typer.Option("--coverage", help="Count the cases that reached each rule path."),
    ] = False,
) -> None:
    """Run policy unit tests: pass/fail per case, what differed, exit 1 on any failure."""
    from meetwarden.policies.cases import run_case
    from meetwarden.policies.coverage import RULE_PATHS, rule_coverage

    policy = policy_or_exit(file)
    try:
        selector = re.compile(run) if run is not None else None
    except re.error as error:
        typer.echo(f"--run: not a regular expression: {error}", err=True)
        raise typer.Exit(2) from None
    loaded = _load(cases)
    chosen = [(p, c) for p, c in loaded if selector is None or selector.search(c.name)]
    if not chosen:
        what = f"matching --run {run!r}" if run is not None else "in " + ", ".join(map(str, cases))
        typer.echo(f"no cases {what}", err=True)
        raise typer.Exit(1)
    english = functools.partial(decision_text, language="en")
    results = [run_case(policy, case, str(path), english) for path, case in chosen]
    failed = [r for r in results if not r.passed]
    counts = rule_coverage(r.rules for r in results)
    if as_json:
        report: dict[str, Any] = {
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "cases": [_case_json(r, english) for r in results],
        }
        if coverage:
            report["coverage"] = counts
            report["unreached_rules"] = [p for p in RULE_PATHS if not counts[p]]
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for result in results:
            _print_result(result, verbose)
        skipped = len(loaded) - len(chosen)
        tail = f", {skipped} not run (--run)" if skipped else ""
        typer.echo(f"\n{len(results) - len(failed)} passed, {len(failed)} failed{tail}")
        if coverage:
            _print_coverage(counts)
    if failed:
        raise typer.Exit(1)


def case_schema_command() -> None:
    """Print the JSON Schema of case files (docs/cases.schema.json), for editors."""
    from meetwarden.policies.case_reference import render_schema

    typer.echo(render_schema(), nl=False)
