"""`meetwarden serve --workers 2`: two processes behind one port, each meeting on one.

What a person notices: everyone of a meeting meets in it (they are all sent to the
process that holds it), whichever connection they came in on; a request that reached
the wrong process is sent to the right one; a worker that dies is started again,
and its people come back, under the same host decisions, without rejoining. And one
address holds no more sockets with two workers than with one: the cap is counted
across them.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.kept import POLICY, decide, kept, stored_with_grant
from support.meetings import Hosted, admit, hosted_meeting
from support.server import RunningServer, api_key_for
from support.sources import Answer, join_from, socket_from

from meetwarden import protocol as wire
from meetwarden.client_sdk import (
    Admitted,
    HostAPI,
    MeetingClient,
    RosterChanged,
)
from meetwarden.server.door import MAX_SOCKETS_ENV
from meetwarden.server.placement import worker_for
from meetwarden.server.runtime.registry import API_LOOKUP_LIMIT_ENV

pytestmark = pytest.mark.anyio


def _workers(server: RunningServer) -> list[int]:
    """The worker processes' ids (the children of the front process)."""
    assert server.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    pids = [int(pid) for pid in found.stdout.split()]
    # multiprocessing also starts its resource tracker: the workers are the spawned ones.
    # In the order they started (worker 0 first, alone): not by id, which wraps around
    # at the kernel's pid_max (a CI run saw worker 0 as 32748 and worker 1 as 391).
    return sorted((pid for pid in pids if b"spawn_main" in _command_line(pid)), key=_started)


def _started(pid: int) -> int:
    """When the process started, in clock ticks since boot (proc(5), /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:  # it ended meanwhile
        return 0
    return int(fields[19])  # field 22, starttime; fields[0] is field 3, the state


def _command_line(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as line:
            return line.read()
    except FileNotFoundError:  # it ended meanwhile
        return b""


async def _meetings_on_both(server: RunningServer) -> list[Hosted]:
    """Meetings until each of the two workers holds at least one."""
    meetings: list[Hosted] = []
    while {worker_for(m.meeting_id, 2) for m in meetings} != {0, 1}:
        assert len(meetings) < 30, "thirty meetings, all on one worker: placement is not spread"
        meetings.append(await hosted_meeting(server.url, POLICY))
    return meetings


async def _stored(data_dir: Path, meeting_id: str, holds: Any) -> None:
    """Until the meeting's stored places satisfy ``holds`` (places are saved within 0.2 s
    of a decision, server/runtime/places.py: a kill loses at most that)."""
    for _ in range(200):
        with sqlite3.connect(data_dir / "meetwarden.db") as database:
            row = database.execute(
                "SELECT document FROM room_states WHERE meeting_id = ?", (meeting_id,)
            ).fetchone()
        people = {p["id"]: p for p in json.loads(row[0])["people"]} if row else {}
        if holds(people):
            return
        await asyncio.sleep(0.05)  # polled: the store has no event to wait on
    raise AssertionError("the meeting's places were not stored as expected within 10 s")


def _two_workers(
    tmp_path_factory: pytest.TempPathFactory, name: str, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """`serve --workers 2` for one test; its last log lines are printed at the end
    (pytest shows them when the test fails)."""
    server = RunningServer(
        tmp_path_factory.mktemp(name), extra_args=["--workers", "2"], env=dict(env or {})
    )
    server.start()
    yield server
    server.stop()
    print("".join(server.log[-120:]))


@pytest.fixture
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from _two_workers(tmp_path_factory, "workers")


async def test_everyone_of_a_meeting_meets_whichever_connection_they_came_in_on(
    two_workers: RunningServer,
) -> None:
    assert len(_workers(two_workers)) == 2
    meetings = await _meetings_on_both(two_workers)
    guests: list[MeetingClient] = []
    try:
        for meeting in meetings:
            guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
            guests.append(guest)
            await admit(meeting.host, guest)  # the host sees them wait: the same process
            await meeting.host.wait_for(RosterChanged, lambda e: len(e.roster) == 2)
            assert {entry.name for entry in guest.roster} == {"Alice Chen", "Bob Smith"}
            assert guest.participant_id is not None
            await meeting.host.mute(guest.participant_id)
            status = await meeting.api.meeting()  # REST, on a connection of its own
            assert status.participants == 2
    finally:
        for guest in guests:
            await guest.close()
        for meeting in meetings:
            await meeting.close()


async def test_a_request_that_reached_the_other_worker_is_sent_to_the_right_one(
    two_workers: RunningServer,
) -> None:
    meetings = await _meetings_on_both(two_workers)
    first = next(m for m in meetings if worker_for(m.meeting_id, 2) == 0)
    second = next(m for m in meetings if worker_for(m.meeting_id, 2) == 1)
    try:
        # One keep-alive connection, routed by its first request to the first meeting's
        # worker, then asked about the second meeting.
        async with httpx.AsyncClient(base_url=two_workers.url) as http:
            here = await http.get(
                f"/api/meetings/{first.meeting_id}",
                headers={"Authorization": f"Bearer {first.host_token}"},
            )
            assert here.status_code == 200
            there = await http.get(
                f"/api/meetings/{second.meeting_id}",
                headers={"Authorization": f"Bearer {second.host_token}"},
            )
            assert there.status_code == 307
            assert there.headers["location"].endswith(f"/api/meetings/{second.meeting_id}")
            assert there.headers["connection"] == "close"
            followed = await http.get(
                there.headers["location"],
                headers={"Authorization": f"Bearer {second.host_token}"},
            )
            assert followed.status_code == 200
            assert followed.json()["participants"] == 1  # its host, connected to its worker
    finally:
        for meeting in meetings:
            await meeting.close()


async def test_a_killed_worker_comes_back_and_its_people_resume_under_the_same_decisions(
    two_workers: RunningServer,
) -> None:
    meetings = await _meetings_on_both(two_workers)
    meeting = next(m for m in meetings if worker_for(m.meeting_id, 2) == 1)
    guest = await MeetingClient.connect(meeting.join_url, name="Bob Smith")
    await meeting.host.wait_admitted()  # taken now: the Admitted awaited below is the resume's
    try:
        await admit(meeting.host, guest)
        guest_id = guest.participant_id
        assert guest_id is not None
        await decide(meeting.host, guest_id)
        await _stored(two_workers.data_dir, meeting.meeting_id, stored_with_grant(guest_id))
        before = _workers(two_workers)

        victim = before[1]  # started second: worker 1 holds this meeting
        os.kill(victim, signal.SIGKILL)

        await guest.wait_for(Admitted, timeout=60)  # resumed by the SDK, no host action
        await meeting.host.wait_for(Admitted, timeout=60)
        after = _workers(two_workers)
        assert len(after) == 2
        assert victim not in after
        assert before[0] in after  # the other worker, and its meetings, went on
        await kept(guest, guest_id, meeting.join_url)
    finally:
        await guest.close()
        for m in meetings:
            await m.close()


async def test_metrics_give_every_workers_figures_whichever_worker_answers(
    two_workers: RunningServer,
) -> None:
    meetings = await _meetings_on_both(two_workers)
    expected = {
        str(index): sum(1 for m in meetings if worker_for(m.meeting_id, 2) == index)
        for index in (0, 1)
    }
    try:
        # A new connection each time: the front hands a path that names no meeting to
        # the workers in turn, so both answer some of the scrapes.
        for _ in range(6):
            async with httpx.AsyncClient(base_url=two_workers.url) as http:
                response = await http.get("/metrics")
            assert response.status_code == 200, response.text
            families = {f.name: f for f in text_string_to_metric_families(response.text)}
            open_by_worker = {
                s.labels["worker"]: s.value for s in families["meetwarden_meetings_open"].samples
            }
            assert open_by_worker == expected, "each worker's meetings, labelled by worker"
            joins = [
                s
                for s in families["meetwarden_decisions"].samples
                if s.name == "meetwarden_decisions_total" and s.labels["event"] == "join_requested"
            ]
            assert {s.labels["worker"] for s in joins} == {"0", "1"}
            assert sum(s.value for s in joins) >= len(meetings), "every host's join counted"
            assert families["meetwarden_workers_unanswered"].samples[0].value == 0
    finally:
        for meeting in meetings:
            await meeting.close()


@pytest.fixture
def capped_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from _two_workers(tmp_path_factory, "capped-workers", {MAX_SOCKETS_ENV: "4"})


async def _told_too_many(answer: Answer) -> None:
    assert (answer.type, answer.message.get("code")) == ("error", "too_many_connections")
    assert answer.close_code == wire.CLOSE_TRY_AGAIN_LATER


async def test_one_address_holds_the_cap_of_sockets_across_both_workers(
    capped_workers: RunningServer,
) -> None:
    """Four sockets at most from one address, wherever their meetings are: the oldest idle
    one gives way on the other worker, joined ones never do, and a worker that dies
    gives its sockets back."""
    server, crowd = capped_workers, "127.0.9.5"
    open_policy = {"entry": {"waiting_room": {"enabled": False}}}
    # Meetings made without their hosts joining: each host's socket would count too.
    on: dict[int, str] = {}
    for _ in range(30):
        created = await HostAPI.create_meeting(
            server.url, open_policy, api_key=api_key_for(server.url)
        )
        on.setdefault(worker_for(created.meeting_id, 2), created.meeting_id)
        if len(on) == 2:
            break
    assert len(on) == 2, "thirty meetings, all on one worker: placement is not spread"
    first, second = on[0], on[1]
    held: list[Answer] = []
    try:
        idle = await socket_from(server.ws_url, first, crowd)  # worker 0, no join
        for number in range(3):
            held.append(
                await join_from(server.ws_url, second, crowd, f"Guest{'s' * number} Number")
            )
        assert {answer.type for answer in held} == {"welcome"}
        # A fifth socket, at worker 1: the idle one, at worker 0, gives way.
        held.append(await join_from(server.ws_url, second, crowd, "Erin Walsh"))
        assert held[-1].type == "welcome"
        oldest = json.loads(await asyncio.wait_for(idle.recv(), 10))
        assert (oldest["type"], oldest["code"]) == ("error", "too_many_connections")
        await asyncio.wait_for(idle.wait_closed(), 10)
        assert idle.close_code == wire.CLOSE_TRY_AGAIN_LATER
        # Four joined, all at worker 1: worker 0, which holds none of them, refuses too.
        await _told_too_many(await join_from(server.ws_url, first, crowd, "Fay Lee"))
        await _told_too_many(await join_from(server.ws_url, second, crowd, "Gil Ray"))
        elsewhere = await join_from(server.ws_url, first, "127.0.9.6", "Carol Jones")
        assert elsewhere.type == "welcome"
        await elsewhere.leave()

        # Worker 1 dies with the four: the address may open sockets again.
        os.kill(_workers(server)[1], signal.SIGKILL)
        async with asyncio.timeout(60):
            while True:
                again = await join_from(server.ws_url, first, crowd, "Dan Brown")
                if again.type == "welcome":
                    break
                await _told_too_many(again)
                await asyncio.sleep(0.05)  # the front has not yet seen the worker end
        held.append(again)
    finally:
        for answer in held:
            await answer.socket.close()


async def test_sign_in_guesses_meet_one_budget_whichever_worker_a_connection_reaches(
    two_workers: RunningServer,
) -> None:
    """Ten wrong passwords from one address spend its sign-in budget (server/hosting), though
    the connections they came on reached either worker first: one budget, not one each."""
    username, password = two_workers.create_account("chair", "correct horse battery")
    origin = {"Origin": two_workers.url}
    answers = []
    for number in range(10):
        async with httpx.AsyncClient(base_url=two_workers.url, follow_redirects=True) as http:
            # The connection's first request goes to the workers in turn (front.py); the
            # sign-in after it, on the same connection, is sent to the one that counts.
            assert (await http.get("/healthz")).status_code == 200
            wrong = {"username": username, "password": f"wrong password {number}"}
            answers.append(
                (await http.post("/api/session", json=wrong, headers=origin)).status_code
            )
    assert answers == [401] * 10
    async with httpx.AsyncClient(base_url=two_workers.url, follow_redirects=True) as http:
        right = {"username": username, "password": password}
        refused = await http.post("/api/session", json=right, headers=origin)
    assert refused.status_code == 429, refused.text
    assert refused.json()["reason"] == "too_many_attempts"


async def test_password_guesses_at_meetings_on_both_workers_meet_one_budget(
    two_workers: RunningServer,
) -> None:
    """An address's join guesses (5 in 5 minutes, server/runtime/attempts.py) are counted by
    the front for both workers: guesses spread over meetings that different workers hold
    spend one budget, not one each. Another address is not touched."""
    protected, password = {"entry": {"password": True}}, "correct horse"
    on: dict[int, Hosted] = {}
    made: list[Hosted] = []
    while len(on) < 2:
        assert len(made) < 30, "thirty meetings, all on one worker: placement is not spread"
        made.append(await hosted_meeting(two_workers.url, protected, password))
        on.setdefault(worker_for(made[-1].meeting_id, 2), made[-1])
    guesser = "127.0.0.77"
    reasons = [
        (
            await join_from(
                two_workers.ws_url, on[n % 2].meeting_id, guesser, password=f"guess {n}"
            )
        ).reason
        for n in range(5)
    ]
    assert reasons == ["join_failed"] * 5  # three at worker 0's meeting, two at worker 1's
    for worker in (0, 1):
        right = await join_from(
            two_workers.ws_url, on[worker].meeting_id, guesser, password=password
        )
        assert right.reason == "too_many_attempts", f"worker {worker}: the budget is spent"
    other = await join_from(two_workers.ws_url, on[1].meeting_id, "127.0.0.78", password=password)
    assert other.type == "welcome", other.message  # the right password, from elsewhere
    await other.socket.close()
    for meeting in made:
        await meeting.close()


@pytest.fixture
def scanned_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from _two_workers(tmp_path_factory, "scanned-workers", {API_LOOKUP_LIMIT_ENV: "6"})


async def test_a_client_scanning_meeting_ids_on_both_workers_meets_one_budget(
    scanned_workers: RunningServer,
) -> None:
    """Failed host-API lookups per client (here 6 in 10 minutes, server/api_host.py) are
    counted for both workers by the front: a scan of meeting ids, each sent to the worker
    that would hold it, gets 6 answers, and one more from each worker that learns of the
    spent budget at its next failure; then every lookup is refused. On its own budget,
    each worker would answer 6."""
    ids: dict[int, list[str]] = {0: [], 1: []}
    while min(len(found) for found in ids.values()) < 8:
        meeting_id = secrets.token_urlsafe(16)
        ids[worker_for(meeting_id, 2)].append(meeting_id)
    scan = [ids[n % 2][n // 2] for n in range(16)]  # worker 0, worker 1, in turn
    statuses = []
    for meeting_id in scan:  # each on a new connection: the front sends it to the holder
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.79")  # the scanner
        async with httpx.AsyncClient(base_url=scanned_workers.url, transport=transport) as http:
            statuses.append((await http.get(f"/api/meetings/{meeting_id}")).status_code)
    assert statuses == [404] * 8 + [429] * 8
    async with httpx.AsyncClient(base_url=scanned_workers.url) as http:  # another client
        assert (await http.get(f"/api/meetings/{scan[0]}")).status_code == 404
