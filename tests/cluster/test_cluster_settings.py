"""The multi-node settings as an operator writes them: each wrong one is said in one sentence.

No Redis here: these are the settings and ``serve``'s refusals, before anything
connects (tests/cluster's other files use the real redis-server).
"""

from __future__ import annotations

import subprocess

import pytest
from pydantic import ValidationError
from support.server import CLI

from meetwarden.server.config import Settings

PASSWORD = "hunter2-but-longer"


def test_by_default_a_node_is_alone_with_a_random_id() -> None:
    first, second = Settings(), Settings()
    assert first.redis_url is None
    assert first.node_address is None
    assert first.cluster_problem() is None
    assert first.node_id.startswith("node-")
    assert first.node_id != second.node_id


def test_multi_node_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETWARDEN_REDIS_URL", "redis://redis.internal:6379/0")
    monkeypatch.setenv("MEETWARDEN_NODE_ID", "eu-1.a")
    monkeypatch.setenv("MEETWARDEN_NODE_ADDRESS", "http://10.0.0.5:8000/")
    settings = Settings()
    assert settings.redis_url == "redis://redis.internal:6379/0"
    assert settings.node_id == "eu-1.a"
    assert settings.node_address == "http://10.0.0.5:8000"
    assert settings.cluster_problem() is None


@pytest.mark.parametrize(
    "url", ["redis://h", "rediss://:pw@h:6380/2", "unix:///run/redis/redis.sock", "redis://[::1]"]
)
def test_redis_urls_redis_py_takes_are_taken(url: str) -> None:
    assert Settings(redis_url=url, node_address="http://n:8000").redis_url == url


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("redis_url", "localhost:6379", "is not a Redis URL: write redis://host:6379/0"),
        ("redis_url", "http://h:6379", "is not a Redis URL"),
        ("redis_url", "unix://", "is not a Redis URL"),
        ("node_id", "eu 1", "is not a node id"),
        ("node_id", "a:b", "is not a node id"),
        ("node_id", "x" * 65, "is not a node id"),
        ("node_address", "10.0.0.5:8000", "write it as a URL such as http://10.0.0.5:8000"),
        ("node_address", "http://10.0.0.5:8000/meet", "not an address other nodes can reach"),
    ],
)
def test_a_wrong_multi_node_setting_says_what_would_be_right(
    field: str, value: str, says: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(**{field: value})
    (problem,) = error.value.errors()
    assert problem["loc"] == (field,)
    assert says in problem["msg"]


def test_a_redis_password_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(redis_url=f"http://:{PASSWORD}@h:6379")
    assert PASSWORD not in error.value.errors()[0]["msg"]


def test_redis_and_the_node_address_go_together() -> None:
    assert Settings(redis_url="redis://h").cluster_problem() == (
        "node_address",
        "--redis-url needs --node-address, the URL the other nodes reach this one at",
    )
    problem = Settings(node_address="http://n:8000").cluster_problem()
    assert problem is not None
    assert problem[0] == "redis_url"


def test_edge_viewers_and_pipes_are_for_several_nodes() -> None:
    for alone in (Settings(edge_after=100), Settings(pipe_address="10.0.0.5")):
        problem = alone.cluster_problem()
        assert problem is not None
        assert problem[0] == "redis_url"
    node = Settings(redis_url="redis://h", node_address="http://10.0.0.5:8000", edge_after=100)
    assert node.cluster_problem() is None
    assert node.resolved_pipe_address == "10.0.0.5"  # the host of --node-address
    assert Settings(pipe_address="192.168.1.5").resolved_pipe_address == "192.168.1.5"


def serve(*args: str) -> tuple[int, list[str]]:
    """`meetwarden serve` that is expected to refuse to start: its exit code and lines."""
    done = subprocess.run(
        [CLI, "serve", "--port", "0", *args], capture_output=True, text=True, timeout=60
    )
    return done.returncode, (done.stdout + done.stderr).strip().splitlines()


def test_serve_refuses_redis_without_a_node_address_in_one_sentence() -> None:
    assert serve("--redis-url", "redis://127.0.0.1:6379") == (
        2,
        [
            "meetwarden: node_address: --redis-url needs --node-address, the URL the other "
            "nodes reach this one at (check --node-address or MEETWARDEN_NODE_ADDRESS)."
        ],
    )


def test_serve_refuses_a_bad_node_id_in_one_sentence() -> None:
    code, lines = serve("--node-id", "not ok")
    assert code == 2
    assert lines == [
        "meetwarden: node_id: Value error, 'not ok' is not a node id: use 1 to 64 letters, "
        "digits, '.', '_' or '-', starting with a letter or digit "
        "(check --node-id or MEETWARDEN_NODE_ID)."
    ]
