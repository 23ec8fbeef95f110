"""Upload throughput and server memory: meetwarden's checked upload beside plain copies.

In one run, the same file goes:

- through meetwarden (a real ``meetwarden serve`` process): a host shares it
  with a file token; the server asks the engine (FileUploadRequested),
  streams it to disk with the policy's limit enforced, hashes it, sniffs it
  with libmagic, writes its metadata, asks the engine again (FileOffered)
  and announces it. The file is exactly at the policy's ``max_bytes``;
- through a bare FastAPI endpoint in its own uvicorn process with the same
  settings (uvloop, httptools), which writes the request body to disk and
  nothing else: the cost of HTTP and a disk write without any check;
- through ``shutil.copyfile`` in this process: the disk alone.

Throughput is the file's size over the time from the request's start to the
response (MiB/s, 2**20 bytes per MiB). A server's memory growth is its peak
RSS during the upload (VmHWM, reset through /proc/PID/clear_refs before each
upload) minus its RSS before. Dirty pages are flushed (untimed) before each
measurement and every round's files deleted, so each write starts alike and
lands in the page cache, as none is fsynced. Client and servers share this
machine. The malware scan is not measured (it is clamd's time, and optional).

    .venv/bin/python bench/file_upload.py                  # 10 MiB, then 100 MiB
    .venv/bin/python bench/file_upload.py --sizes 10 --repeat 9 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from meetwarden.client_sdk import HostAPI, MeetingClient

MiB = 1024 * 1024
CHUNK = MiB
_LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


# --- the bare server (run as: file_upload.py --serve-bare DIRECTORY) --------------------


def serve_bare(directory: Path) -> None:
    """A FastAPI endpoint that writes the body to disk: no token, engine, limit or sniffing."""
    import uvicorn

    app = FastAPI()
    counter = iter(range(1 << 30))

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        path = directory / f"upload-{next(counter)}"
        size = 0
        with path.open("wb") as file:
            async for chunk in request.stream():
                file.write(chunk)
                size += len(chunk)
        return JSONResponse({"size": size}, status_code=201)

    uvicorn.run(app, host="127.0.0.1", port=0, loop="uvloop", http="httptools", log_level="info")


# --- processes and their memory ------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int = 0
    log: list[str] = field(default_factory=list)
    api_key: str | None = None
    """meetwarden's operator API key (creating a meeting needs one)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def operator_key(cli: str, data_dir: Path) -> str:
    """An operator API key for meetwarden (creating a meeting needs one)."""
    return subprocess.run(
        [cli, "keys", "create", "--name", "bench", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def start(args: list[str]) -> Server:
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    server = Server(process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.log.append(line)
            if match := _LISTENING.search(line):
                server.port = int(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60) or not server.port:
        server.stop()
        raise RuntimeError("the server did not start:\n" + "".join(server.log[-30:]))
    return server


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def reset_peak(pid: int) -> bool:
    """Set VmHWM back to the current RSS (Linux 4.0+: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- measuring ---------------------------------------------------------------------------


def make_file(path: Path, size: int) -> None:
    """Text (base64 of random bytes, in lines), so libmagic calls it text/plain."""
    with path.open("wb") as file:
        written = 0
        while written < size:
            line = base64.b64encode(os.urandom(57)) + b"\n"  # 77 bytes
            block = line * 1024
            block = block[: size - written]
            file.write(block)
            written += len(block)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk


def settle(*directories: Path) -> None:
    """Delete the last round's copies and flush dirty pages, untimed, so that no
    measurement pays for the writeback of another's (the kernel throttles writers
    once dirty pages pile up: without this, each 100 MiB run is slower than the last)."""
    for directory in directories:
        for path in directory.iterdir():
            if path.is_file():
                path.unlink()
    os.sync()


async def timed_post(
    url: str, path: Path, size: int, headers: dict[str, str], pid: int
) -> tuple[float, int, dict[str, Any]]:
    """Seconds for the upload, the server's memory growth, and the response body."""
    os.sync()
    reset_peak(pid)
    before = memory(pid)["VmRSS"]
    headers = {**headers, "Content-Length": str(size)}
    async with httpx.AsyncClient(timeout=300) as http:
        started = time.perf_counter()
        response = await http.post(url, content=_chunks(path), headers=headers)
        elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return elapsed, memory(pid)["VmHWM"] - before, response.json()


def timed_copy(source: Path, target: Path) -> float:
    """Seconds to copy (into the page cache, as the servers' writes: none is fsynced)."""
    os.sync()
    started = time.perf_counter()
    shutil.copyfile(source, target)
    return time.perf_counter() - started


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    growth: list[int] = field(default_factory=list)

    def rate(self, size: int) -> float:
        return size / MiB / statistics.median(self.seconds)


async def measure(
    size_mib: int, repeat: int, work: Path, mw: Server, bare: Server
) -> dict[str, Any]:
    size = size_mib * MiB
    source = work / f"source-{size_mib}.txt"
    make_file(source, size)
    policy = {
        "name": "File bench",
        "file_share": {"allowed": "host_only", "max_bytes": size, "types": ["text/plain"]},
    }
    created = await HostAPI.create_meeting(mw.url, policy, api_key=mw.api_key)
    host = await MeetingClient.connect(
        created.join_url, name="Alice Chen", host_token=created.host_token
    )
    runs = {"meetwarden": Runs(), "bare": Runs(), "copy": Runs()}
    try:
        for attempt in range(repeat + 1):  # the first round warms caches up, and is dropped
            token = await host.file_token()
            seconds, growth, body = await timed_post(
                f"{mw.url}{token.upload_path}?name=notes.txt",
                source,
                size,
                {"Authorization": f"Bearer {token.token}", "Content-Type": "text/plain"},
                mw.process.pid,
            )
            assert body["decision"]["reason"] == "file_accepted", body
            assert body["size"] == size, body
            bare_seconds, bare_growth, _ = await timed_post(
                f"{bare.url}/upload", source, size, {"Content-Type": "text/plain"}, bare.process.pid
            )
            copy_seconds = timed_copy(source, work / "copies" / f"copy-{attempt}")
            settle(work / "mw" / "files", work / "bare", work / "copies")
            if attempt == 0:
                continue
            runs["meetwarden"].seconds.append(seconds)
            runs["meetwarden"].growth.append(growth)
            runs["bare"].seconds.append(bare_seconds)
            runs["bare"].growth.append(bare_growth)
            runs["copy"].seconds.append(copy_seconds)
    finally:
        await host.close()
    return {
        "size_mib": size_mib,
        "limit_bytes": size,
        "repeat": repeat,
        "seconds": {name: r.seconds for name, r in runs.items()},
        "mib_per_s": {name: round(r.rate(size), 1) for name, r in runs.items()},
        "server_peak_growth_mib": {
            name: round(max(r.growth) / MiB, 1) for name, r in runs.items() if r.growth
        },
    }


def report(result: dict[str, Any]) -> None:
    rate, growth = result["mib_per_s"], result["server_peak_growth_mib"]
    print(
        f"\n{result['size_mib']} MiB file at a {result['size_mib']} MiB limit, "
        f"median of {result['repeat']} runs:"
    )
    print(
        f"  meetwarden upload (engine x2, limit, sha256, libmagic, metadata): "
        f"{rate['meetwarden']:7.1f} MiB/s, server peak RSS +{growth['meetwarden']} MiB"
    )
    print(
        f"  bare FastAPI upload (body to disk, no checks):                    "
        f"{rate['bare']:7.1f} MiB/s, server peak RSS +{growth['bare']} MiB"
    )
    copy = rate["copy"]
    print(f"  shutil.copyfile:                                                  {copy:7.1f} MiB/s")
    print(
        f"  ratio meetwarden/bare upload {rate['meetwarden'] / rate['bare']:.2f}, "
        f"meetwarden/file copy {rate['meetwarden'] / rate['copy']:.2f}"
    )


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="mw-file-bench-"))
    cli = str(Path(sys.executable).with_name("meetwarden"))
    key = operator_key(cli, work / "mw")
    mw = start(
        [cli, "serve", "--workers", "1", "--port", "0", "--data-dir", str(work / "mw"),
         *args.serve_arg]
    )  # fmt: skip
    mw.api_key = key
    (work / "bare").mkdir()
    (work / "copies").mkdir()
    bare = start([sys.executable, __file__, "--serve-bare", str(work / "bare")])
    results: list[dict[str, Any]] = []
    try:
        peak = "works" if reset_peak(mw.process.pid) else "UNAVAILABLE: growth is lifetime peak"
        print(
            f"servers: meetwarden pid {mw.process.pid} "
            f"(RSS {memory(mw.process.pid)['VmRSS'] / MiB:.0f} MiB), bare pid {bare.process.pid} "
            f"(RSS {memory(bare.process.pid)['VmRSS'] / MiB:.0f} MiB); peak reset {peak}"
        )
        for size_mib in args.sizes:
            repeat = args.repeat if args.repeat else (5 if size_mib <= 10 else 3)
            result = await measure(size_mib, repeat, work, mw, bare)
            report(result)
            results.append(result)
    finally:
        mw.stop()
        bare.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        text = json.dumps({"args": vars(args), "results": results}, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100], help="MiB, each a run")
    parser.add_argument("--repeat", type=int, default=0, help="runs per size (default 5, or 3)")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument(
        "--serve-arg", action="append", default=[], help="extra `meetwarden serve` argument"
    )
    parser.add_argument("--serve-bare", type=Path, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve_bare is not None:
        serve_bare(parsed.serve_bare)
    else:
        asyncio.run(main(parsed))
