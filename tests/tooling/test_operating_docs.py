"""docs/operating.md keeps up with `meetwarden serve`: every option and its variable."""

from __future__ import annotations

from pathlib import Path

from meetwarden.server.cli_serve import HELP, OPTIONS
from meetwarden.server.config import env_name

ROOT = Path(__file__).parents[2]


def test_every_serve_option_and_its_variable_is_documented() -> None:
    written = (ROOT / "docs" / "operating.md").read_text()
    missing = [
        option
        for option in OPTIONS
        if f"`--{option.replace('_', '-')}" not in written
        or f"`{env_name('--' + option.replace('_', '-'))}`" not in written
    ]
    assert not missing, f"docs/operating.md does not document {missing}"


def test_the_readme_leads_to_the_operators_guide() -> None:
    assert "docs/operating.md" in (ROOT / "README.md").read_text()
    assert "MEETWARDEN_" in HELP
