"""The server side of bench/workers.py: `meetwarden serve --workers N`, its CPU, one step.

One step: start the server afresh, create the meetings through the API, start
the generator processes (bench/workers_clients.py) with their share of the
meetings, wait until they joined, let the meetings run, and read over the
window the CPU of the serve process and its children (/proc/PID/stat), of the
generators, and of the whole machine (/proc/stat; proc(5)).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cpu_quota import CpuQuota

from meetwarden.server.placement import worker_for

__all__ = ["Serve", "Step", "operator_headers", "run_step"]

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "workers_clients.py"
CLI = str(Path(sys.executable).with_name("meetwarden"))
POLICY = {"entry": {"waiting_room": {"enabled": False}}}
TICK = os.sysconf("SC_CLK_TCK")


# --- /proc ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def waited_seconds(pid: int) -> float:
    """Seconds the process's threads have waited on a run queue for a core so far
    (the second field of each /proc/PID/task/TID/schedstat; the kernel's sched-stats.rst)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e9


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def label(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    return "resource tracker" if b"resource_tracker" in command else "worker"


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (all cores; /proc/stat's first line)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


# --- the server ----------------------------------------------------------------------------


@dataclass
class Serve:
    workers: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    quota: CpuQuota | None = None
    """Cores the whole serve process tree may use (None: the machine's)."""
    quota_each: float | None = None
    """Cores each worker may use, in a group of its own inside ``quota`` (None: pooled)."""
    _worker_quotas: list[CpuQuota] = field(default_factory=list)

    def confine_workers(self) -> None:
        """Each worker process into a group of its own with ``quota_each`` cores."""
        if self.quota is None or self.quota_each is None or self.workers == 1:
            return  # one worker: the serve process is it, and ``quota`` is its own
        workers = [pid for pid, name in self.processes().items() if name == "worker"]
        for number, pid in enumerate(sorted(workers)):
            each = CpuQuota(self.quota_each, f"worker-{number}", parent=self.quota)
            each.add(pid)
            self._worker_quotas.append(each)

    def throttled_seconds(self) -> float:
        """How long the quotas have held the server back so far (every worker's, if each
        has its own)."""
        if self._worker_quotas:
            return sum(each.throttled_seconds() for each in self._worker_quotas)
        return self.quota.throttled_seconds() if self.quota else 0.0

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MEETWARDEN_WORKERS", None)
        arguments = ["serve", "--workers", str(self.workers), "--port", "0"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [CLI, *arguments, "--data-dir", str(self.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=self.quota.enter if self.quota else None,
            )
        deadline = time.monotonic() + timeout
        # --workers 1 is the one process uvicorn serves alone (no front process);
        # more workers print the front's own line (server/workers/supervisor.py).
        marker = "Uvicorn running on http://" if self.workers == 1 else "meetwarden running on"
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in self.log_path.read_text(errors="replace").splitlines()[::-1]:
                if line.startswith("--- stopped"):
                    break
                if marker in line:
                    self.port = int(line.split("http://", 1)[1].split()[0].rsplit(":", 1)[1])
                    return
            time.sleep(0.1)  # polling the log for the line that names the port
        raise RuntimeError(f"serve did not start:\n{self.log_path.read_text()[-3000:]}")

    def processes(self) -> dict[int, str]:
        assert self.process is not None
        return {
            self.process.pid: "front" if self.workers > 1 else "server",
            **{pid: label(pid) for pid in children(self.process.pid)},
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        for each in self._worker_quotas:
            each.remove()  # the processes are gone: the groups are empty
        self._worker_quotas.clear()
        with self.log_path.open("a") as log:
            log.write("\n--- stopped ---\n")


def operator_headers(data_dir: Path) -> dict[str, str]:
    key = subprocess.run(
        [CLI, "keys", "create", "--name", "bench", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {"Authorization": f"Bearer {key}"}


async def create_meetings(port: int, headers: dict[str, str], count: int) -> list[dict[str, str]]:
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=60) as http:

        async def one() -> dict[str, str]:
            async with gate:
                response = await http.post(
                    f"http://127.0.0.1:{port}/api/meetings",
                    json={"policy": POLICY},
                    headers=headers,
                )
                response.raise_for_status()
                created = response.json()
                return {"meeting_id": created["meeting_id"], "host_token": created["host_token"]}

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def line_from(generator: asyncio.subprocess.Process) -> bytes:
    """The generator's next line; a generator that died says so (its stderr is ours)."""
    assert generator.stdout is not None
    line = await generator.stdout.readline()
    if not line:
        raise RuntimeError(f"a generator process ended (exit code {await generator.wait()})")
    return line


# --- one step ------------------------------------------------------------------------------


@dataclass
class Step:
    workers: int
    meetings: int
    held: bool = False
    why: str = ""
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    requests_per_s: float = 0.0
    messages_in_per_s: float = 0.0
    lost: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    dropped: int = 0
    join_failures: dict[str, int] = field(default_factory=dict)
    server_cores: float = 0.0
    """Server CPU-seconds per second of the window, all its processes."""
    process_cores: dict[str, float] = field(default_factory=dict)
    generator_cores: float = 0.0
    others_cores: float = 0.0
    """The rest of the machine's busy time: other people's work, and the kernel's."""
    server_waited: float = 0.0
    """Seconds per second the server's threads waited for a core (0: never starved)."""
    throttled: float = 0.0
    """Seconds per second the server was held back by its CPU quota (bench/cpu_quota.py)."""
    split: list[int] = field(default_factory=list)
    """Meetings per worker (server/placement.py)."""

    @property
    def server_ms_per_meeting(self) -> float:
        return self.server_cores / self.meetings * 1000 if self.meetings else 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


async def run_step(
    arguments: argparse.Namespace, serve: Serve, operator: dict[str, str], count: int
) -> Step:
    step = Step(serve.workers, count)
    serve.start()
    serve.confine_workers()
    generators: list[asyncio.subprocess.Process] = []
    try:
        meetings = await create_meetings(serve.port, operator, count)
        step.split = [0] * serve.workers
        for meeting in meetings:
            step.split[worker_for(meeting["meeting_id"], serve.workers)] += 1
        shares: list[list[Any]] = [[] for _ in range(arguments.generators)]
        for number, meeting in enumerate(meetings):
            shares[number % arguments.generators].append([number, meeting])
        for share in shares:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(CLIENTS),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**26,
            )
            job = {
                "port": serve.port,
                "meetings": share,
                "size": arguments.size,
                "every": arguments.every,
                "concurrency": arguments.join_concurrency,
                "warmup": arguments.warmup,
                "window": arguments.window,
                "grace": arguments.grace,
            }
            assert process.stdin is not None
            process.stdin.write((json.dumps(job) + "\n").encode())
            generators.append(process)
        for process in generators:
            assert process.stdout is not None
            joined = json.loads(await line_from(process))
            for why, times in joined["failures"].items():
                step.join_failures[why] = step.join_failures.get(why, 0) + times
        for process in generators:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
        await asyncio.sleep(arguments.warmup)
        pids = serve.processes()
        before = {pid: cpu_seconds(pid) for pid in [*pids, *(p.pid for p in generators)]}
        waited = sum(waited_seconds(pid) for pid in pids)
        throttled = serve.throttled_seconds()
        busy, started = machine_busy(), time.monotonic()
        await asyncio.sleep(arguments.window)
        seconds = time.monotonic() - started
        after = {pid: cpu_seconds(pid) for pid in before}
        step.server_waited = (sum(waited_seconds(pid) for pid in pids) - waited) / seconds
        step.throttled = (serve.throttled_seconds() - throttled) / seconds
        busy = (machine_busy() - busy) / seconds
        used = {pid: (after[pid] - before[pid]) / seconds for pid in before}
        results = []
        for process in generators:
            assert process.stdout is not None
            results.append(json.loads(await line_from(process)))
            await process.wait()
    finally:
        for process in generators:
            if process.returncode is None:
                process.kill()
                await process.wait()
        serve.stop()
    names = {pid: name for pid, name in pids.items()}
    workers = sorted(pid for pid, name in names.items() if name == "worker")
    for number, pid in enumerate(workers):
        names[pid] = f"worker {number}"
    step.process_cores = {names[pid]: round(used[pid], 3) for pid in pids}
    step.server_cores = sum(used[pid] for pid in pids)
    step.generator_cores = sum(used[p.pid] for p in generators)
    step.others_cores = max(0.0, busy - step.server_cores - step.generator_cores)
    latencies = [value for result in results for value in result["latencies"]]
    step.p50_ms = percentile(latencies, 0.50) * 1000
    step.p95_ms = percentile(latencies, 0.95) * 1000
    step.lost = sum(result["lost"] for result in results)
    step.dropped = sum(result["dropped_sockets"] for result in results)
    for result in results:
        for code, times in result["errors"].items():
            step.errors[code] = step.errors.get(code, 0) + times
    total_seconds = arguments.warmup + arguments.window
    step.requests_per_s = sum(result["requests"] for result in results) / total_seconds
    step.messages_in_per_s = sum(result["received"] for result in results) / total_seconds
    problems = []
    if step.join_failures:
        first = next(iter(step.join_failures))
        problems.append(f"{sum(step.join_failures.values())} meetings not joined ({first})")
    if not latencies:
        problems.append("no answers")
    if step.p95_ms > arguments.p95_ms:
        problems.append(f"p95 {step.p95_ms:.0f} ms")
    if step.lost:
        problems.append(f"{step.lost} unanswered")
    if step.errors:
        problems.append(f"errors {step.errors}")
    if step.dropped:
        problems.append(f"{step.dropped} sockets closed")
    step.held, step.why = not problems, ", ".join(problems)
    return step
