"""The project's shape: generated docs in step, packaging, import direction."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from meetwarden.policies.reference import render

ROOT = Path(__file__).parents[2]


def test_policy_reference_is_generated_from_the_models() -> None:
    written = (ROOT / "docs" / "policy.md").read_text()
    assert written == render(), (
        "regenerate: python -m meetwarden.policies.reference > docs/policy.md"
    )


def test_every_screenshot_shown_is_kept_and_every_one_kept_is_shown() -> None:
    pictures = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.png)\)")
    shown = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in pictures.findall(page.read_text()):
            shown.add((page.parent / target).resolve())
    kept = {path.resolve() for path in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert shown - kept == set(), "shown but missing (make screenshots)"
    assert kept - shown == set(), "kept but shown nowhere: remove them"


def test_every_code_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    mapped = {(ROOT / folder).resolve(): name for name, folder in config["package-dir"].items()}
    for init in (p for folder in mapped for p in folder.rglob("__init__.py")):
        # A folder belongs to the closest mapping above it (meetwarden.protocol's folder
        # sits inside policies/ but is a package of its own).
        owner = max(
            (f for f in mapped if init.parent.is_relative_to(f)), key=lambda f: len(f.parts)
        )
        found.add(".".join([mapped[owner], *init.parent.relative_to(owner).parts]))
    assert found == listed


def test_no_generic_top_level_package_is_installed() -> None:
    probe = "import importlib.util as u; print(u.find_spec('server'), u.find_spec('policies'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", check=True
    )
    assert out.stdout.strip() == "None None"


def test_import_direction_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
