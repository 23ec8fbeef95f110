"""A meeting's link never reaches a tracing backend.

FastAPI records an OpenTelemetry span for every request once the process has a tracer
provider (https://fastapi.tiangolo.com/advanced/opentelemetry/), with the request's
path: a meeting's page and API paths hold its whole id, which is its link. Here the
process has the SDK's provider, as an operator's ``opentelemetry-instrument`` would give
it, and the spans are read back (``support/telemetry_probe.py``, in a process of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

TESTS = Path(__file__).resolve().parents[1]


def test_a_process_that_traces_requests_traces_nothing_of_a_meeting(tmp_path: Path) -> None:
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    probe = subprocess.run(
        [sys.executable, "-m", "support.telemetry_probe", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])

    # The provider is in use: a bare FastAPI app's request is traced, its path and id with it.
    paths_traced = [span["attributes"].get("url.path") for span in seen["bare"]]
    assert f"/m/{seen['bare_id']}" in paths_traced

    # meetwarden's page, API and socket of a real meeting: no span at all, so no id.
    traced = [(span["name"], span["attributes"].get("url.path")) for span in seen["meetwarden"]]
    assert traced == [], f"meetwarden's requests were traced, ids and all: {traced}"
