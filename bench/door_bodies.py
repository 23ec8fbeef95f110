"""What an oversized request body costs the server: memory, and how much it reads first.

A client streams a body of ``--mib`` MiB without a length (chunked) to
``POST /api/policies/explain`` and to ``POST /api/meetings``, reading while it
sends (so it sees an early answer). For each: the answer's status, how many
bytes the client had sent when the answer came, and the growth of the
server's peak memory (VmHWM, from /proc), on a fresh server per route.
``--against REF`` does the same for meetwarden at REF (``bench/baseline.py``).

    python bench/door_bodies.py --mib 64 --against 22841f4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from baseline import checkout, describe
from support.server import RunningServer

ROUTES = ("/api/policies/explain", "/api/meetings")
CHUNK = 1024 * 1024


def peak_rss_kib(server: RunningServer) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


async def stream(port: int, path: str, size: int) -> tuple[str, int, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    sent = 0

    async def send() -> None:
        nonlocal sent
        chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        with contextlib.suppress(ConnectionError):
            while sent < size:
                writer.write(chunk)
                await writer.drain()
                sent += CHUNK
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    started = time.perf_counter()
    sending = asyncio.create_task(send())
    try:
        async with asyncio.timeout(300):
            status = (await reader.readline()).decode().strip()
    except (ConnectionError, TimeoutError) as error:
        status = f"no answer ({type(error).__name__})"
    elapsed = time.perf_counter() - started
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    writer.close()
    return status, sent, elapsed


async def side(pythonpath: str | None, size: int) -> list[tuple[str, str, int, float, int]]:
    rows = []
    for path in ROUTES:
        env = {"PYTHONPATH": pythonpath} if pythonpath else {}
        server = RunningServer(Path(tempfile.mkdtemp(prefix="mw-bench-")), env=env).start()
        try:
            before = peak_rss_kib(server)
            status, sent, elapsed = await stream(server.port, path, size)
            await asyncio.sleep(0.5)
            rows.append((path, status, sent, elapsed, peak_rss_kib(server) - before))
        finally:
            server.stop()
    return rows


async def main(args: argparse.Namespace) -> None:
    size = args.mib * CHUNK
    sides: dict[str, str | None] = {"now": None}
    if args.against:
        sides[f"before ({describe(args.against)[:40]})"] = checkout(args.against)[1]
    print(f"a {args.mib} MiB chunked body, sent while reading")
    print(f"{'':48}{'answer':>32}{'sent (MiB)':>12}{'s':>7}{'peak RSS +MiB':>15}")
    for name, pythonpath in sides.items():
        for path, status, sent, elapsed, grown in await side(pythonpath, size):
            print(
                f"{name[:20]:21}{path:27}{status[:31]:>32}{sent / CHUNK:12.0f}"
                f"{elapsed:7.2f}{grown / 1024:15.1f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--against", metavar="REF", help="also meetwarden at REF, e.g. 22841f4")
    asyncio.run(main(parser.parse_args()))
