"""compose.cluster.yaml starts two nodes that `serve` would accept, on one PostgreSQL and
one Redis, each reachable at its own address and sharing the join links' address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meetwarden.server.config import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "compose.cluster.yaml"


def _nodes() -> dict[str, dict[str, Any]]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return {n: s for n, s in services.items() if "MEETWARDEN_NODE_ID" in s.get("environment", {})}


def _settings(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def test_two_nodes_each_a_valid_node_of_the_same_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = _nodes()
    assert len(nodes) == 2
    seen = []
    for service in nodes.values():
        with monkeypatch.context() as patch:
            settings = _settings(service["environment"], patch)
        assert settings.cluster_problem() is None
        assert settings.worker_count == 1
        seen.append(settings)
    first, second = seen
    assert first.database_url == second.database_url
    assert first.redis_url == second.redis_url
    assert first.public_url == second.public_url  # one address in every join link
    assert first.node_id != second.node_id
    assert first.node_address != second.node_address
    assert {first.port, second.port} == {8001, 8002}
    for service in nodes.values():
        assert {"postgres", "redis"} <= set(service["depends_on"])
