"""Write the next migration: ``python -m meetwarden.server.store.migrations "what changed"``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from meetwarden.server.store.migrating import alembic_config, head_revision


def main(arguments: list[str]) -> int:
    """Autogenerate revision N+1 from the difference between head and ``tables.metadata``."""
    message = " ".join(arguments).strip()
    if not message:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}"
        config = alembic_config(url=url)
        command.upgrade(config, "head")
        written = command.revision(
            config, message=message, autogenerate=True, rev_id=f"{int(head_revision()) + 1:04d}"
        )
    scripts = written if isinstance(written, list) else [written]
    paths = [script.path for script in scripts if script is not None]
    if importlib.util.find_spec("ruff") is None:
        print("ruff is not installed: run `ruff check --fix` and `ruff format` on", *paths)
        return 0
    for fix in (["check", "--fix", "--quiet"], ["format", "--quiet"]):
        subprocess.run([sys.executable, "-m", "ruff", *fix, *map(str, paths)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
