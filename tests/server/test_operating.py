"""What an operator meets in the first hour: the version, settings from the environment,
one server per data directory, a data directory it cannot use, JSON logs that name
the meeting, /metrics and /healthz. Real `meetwarden serve` processes throughout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.disks import read_only, small_disk
from support.meetings import hosted_meeting
from support.server import CLI, RunningServer

from meetwarden.client_sdk import JoinRefusedError, MeetingClient

pytestmark = pytest.mark.anyio


def serve(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`meetwarden serve` that is expected to refuse to start."""
    return subprocess.run(
        [CLI, "serve", "--port", "0", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_sentence(done: subprocess.CompletedProcess[str]) -> str:
    said = (done.stdout + done.stderr).strip()
    assert "Traceback" not in said
    assert len(said.splitlines()) == 1, said
    return said


def test_version_is_the_installed_distributions() -> None:
    done = subprocess.run([CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"meetwarden {version('meetwarden')}"


async def test_settings_come_from_the_environment_and_a_flag_wins(tmp_path: Path) -> None:
    ignored = tmp_path / "ignored"
    server = RunningServer(
        tmp_path / "data",
        env={
            "MEETWARDEN_PUBLIC_URL": "https://meet.example",
            "MEETWARDEN_LOG_FORMAT": "json",
            "MEETWARDEN_DATA_DIR": str(ignored),  # RunningServer gives --data-dir
        },
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            public = await http.get("/openapi.json", headers={"Host": "meet.example"})
            other = await http.get("/openapi.json", headers={"Host": "other.example"})
    finally:
        server.stop()
    assert (public.status_code, other.status_code) == (200, 400)
    assert json.loads(server.log[0])["level"] == "INFO"
    assert (tmp_path / "data" / "meetwarden.db").exists()
    assert not ignored.exists()


@pytest.fixture
def first_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path / "data").start()
    yield running
    running.stop()


async def test_a_second_server_on_the_same_data_directory_refuses_and_the_first_goes_on(
    first_server: RunningServer,
) -> None:
    second = serve(first_server.data_dir)
    sentence = one_sentence(second)
    assert second.returncode != 0
    assert "another meetwarden server" in sentence
    assert str(first_server.data_dir.resolve()) in sentence
    async with httpx.AsyncClient(base_url=first_server.url) as http:
        assert (await http.get("/healthz")).status_code == 200
    meeting = await hosted_meeting(first_server.url, {})
    await meeting.close()


def test_a_read_only_or_uncreatable_data_directory_is_one_sentence(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        if isinstance(disk, str):
            pytest.skip(disk)
        (disk / "data").mkdir()
        read_only(disk)  # as root, chmod stops nobody: the disk itself refuses writes
        existing = serve(disk / "data")
        missing = serve(disk / "missing" / "data")
    assert existing.returncode != 0
    assert missing.returncode != 0
    assert "is not writable" in one_sentence(existing)
    assert "cannot create the data directory" in one_sentence(missing)


async def test_json_log_lines_name_the_meeting_they_were_logged_for(tmp_path: Path) -> None:
    server = RunningServer(
        tmp_path / "data", extra_args=["--log-format", "json", "--log-level", "debug"]
    ).start()
    try:
        meeting = await hosted_meeting(server.url, {})
        guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
        await guest.close()
        await meeting.close()
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log if line.strip()]  # every one is JSON
    decided = [line for line in lines if line["logger"] == "meetwarden.room"]
    assert any(line["message"].startswith("join_requested allowed") for line in decided)
    assert {line["meeting_id"] for line in decided} == {meeting.meeting_id[:8]}
    assert {line["meeting_id"] for line in lines if "Uvicorn running" in line["message"]} == {None}


async def test_the_log_never_holds_a_meetings_link(tmp_path: Path) -> None:
    """The whole meeting id is its link: the log shows its first 8 characters, in
    uvicorn's lines for a socket and a request as in ours, and no query string."""
    server = RunningServer(tmp_path / "data").start()
    try:
        meeting = await hosted_meeting(server.url, {})
        guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
        async with httpx.AsyncClient(base_url=server.url) as http:
            audit = await http.get(
                f"/api/meetings/{meeting.meeting_id}/audit",
                params={"reason": "admitted_by_host"},
                headers={"Authorization": f"Bearer {meeting.host_token}"},
            )
        assert audit.status_code == 200
        await guest.close()
        await meeting.close()
    finally:
        server.stop()
    log = "\n".join(server.log)
    short = meeting.meeting_id[:8]
    assert meeting.meeting_id not in log
    assert f'"WebSocket /ws/meetings/{short}…" [accepted]' in log  # the host's, the guest's
    assert f'"GET /api/meetings/{short}…/audit?… HTTP/1.1" 200' in log
    assert f"meeting {short} created" in log
    assert "admitted_by_host" not in log  # the query, left out
    assert "connection open" not in log  # said by the [accepted] line before it


async def metric(server: RunningServer, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def test_metrics_count_decisions_and_refused_joins(server: RunningServer) -> None:
    joins_before = await metric(server, "meetwarden_decisions_total", event="join_requested")
    refusals_before = await metric(server, "meetwarden_join_refusals_total", reason="join_failed")
    meeting = await hosted_meeting(server.url, {"entry": {"password": True}}, "correct horse")
    try:
        with pytest.raises(JoinRefusedError):
            await MeetingClient.connect(meeting.join_url, name="Eve Doe", password="wrong")
        assert await metric(server, "meetwarden_meetings_open") >= 1
        assert await metric(server, "meetwarden_participants_connected") >= 1
    finally:
        await meeting.close()
    joins = await metric(server, "meetwarden_decisions_total", event="join_requested")
    assert joins - joins_before == 2  # the host's, allowed; the wrong password, refused
    refused = await metric(
        server, "meetwarden_decisions_total", event="join_requested", reason="wrong_password"
    )
    assert refused >= 1
    refusals = await metric(server, "meetwarden_join_refusals_total", reason="join_failed")
    assert refusals - refusals_before == 1
    assert await metric(server, "meetwarden_forwarded_packets_total") >= 0


async def test_metrics_are_local_unless_a_token_opens_them(
    server: RunningServer, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        proxied = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert proxied.status_code == 403
    assert "--metrics-token" in proxied.json()["detail"]
    with_token = RunningServer(
        tmp_path / "data",
        extra_args=["--public-url", "https://meet.example"],
        env={"MEETWARDEN_METRICS_TOKEN": "scrape-secret"},
    ).start()
    try:
        async with httpx.AsyncClient(base_url=with_token.url) as http:
            bare = await http.get("/metrics")
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            # Prometheus on another machine names the server by its address.
            scraped = await http.get(
                "/metrics",
                headers={"Authorization": "Bearer scrape-secret", "Host": "10.0.0.5:8000"},
            )
    finally:
        with_token.stop()
    assert (bare.status_code, wrong.status_code) == (401, 401)
    assert scraped.status_code == 200
    assert "meetwarden_decisions_total" in scraped.text


async def test_healthz_says_what_is_ready(server: RunningServer, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        ready = await http.get("/healthz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "version": version("meetwarden"),
        "database": "reachable",
        "media": "up",
        "scanner": "not configured",
    }
    no_scanner = RunningServer(
        tmp_path / "data",
        extra_args=["--no-media", "--clamd-socket", str(tmp_path / "no-clamd.sock")],
    ).start()
    try:
        async with httpx.AsyncClient(base_url=no_scanner.url) as http:
            degraded = await http.get("/healthz")
    finally:
        no_scanner.stop()
    assert degraded.status_code == 200
    assert degraded.json() | {"version": ""} == {
        "status": "degraded",
        "version": "",
        "database": "reachable",
        "media": "off",
        "scanner": "unreachable",
    }
