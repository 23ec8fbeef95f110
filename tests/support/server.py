"""A real meetwarden server for tests: `meetwarden serve` in its own process.

It listens on a free loopback port (uvicorn picks it; we read it from the
log), keeps its SQLite file and signing key in a temporary directory, and can
be stopped and started again on the same data (the restart tests).

Creating a meeting needs a credential, so before its first start the server
gets an operator API key, made on its database by the same code as `meetwarden
keys create` but in the test's process (a second process would cost two
seconds per server; tests/server/test_hosting.py runs the command itself), and,
when a test asks, a host account (`meetwarden accounts create`, or the same code in
the test's process).
Helpers that are handed only a server's URL find them with
:func:`api_key_for` and :func:`account_for`. A past meetwarden (bench
``--against``), which has no `keys` command, gets none and needs none.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from meetwarden.server.hosting.service import Hosting

__all__ = ["SETUP_LINK", "RunningServer", "account_for", "api_key_for", "running_at"]

CLI = str(Path(sys.executable).with_name("meetwarden"))
SETUP_LINK = re.compile(r"(http://\S+)/setup#token=([A-Za-z0-9_-]+)")
"""The first-account link a server prints at its first start: (base URL, token)."""
_LISTENING = re.compile(r"(?:Uvicorn|meetwarden) running on http://\S+:(\d+)")
STARTUP_TIMEOUT = 120.0
"""Seconds a server may take to listen. Its imports alone took 25 s on a loaded CI
machine (two test workers and their browsers on two cores); one that exits fails at once."""
T = TypeVar("T")
_API_KEYS: dict[str, str] = {}
_ACCOUNTS: dict[str, tuple[str, str]] = {}
_RUNNING: dict[str, RunningServer] = {}
_DESCRIBED = "connection lines described"


def api_key_for(url: str) -> str | None:
    """The operator API key of the test server at ``url`` (None: a server that needs none)."""
    return _API_KEYS.get(url.rstrip("/"))


def running_at(url: str) -> RunningServer | None:
    """The test server listening at ``url`` in this process, if any."""
    return _RUNNING.get(url.rstrip("/"))


def account_for(url: str) -> tuple[str, str] | None:
    """(username, password) of the host account made on the test server at ``url``, if any."""
    return _ACCOUNTS.get(url.rstrip("/"))


@dataclass
class RunningServer:
    data_dir: Path
    database_url: str | None = None
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    """What runs instead of `meetwarden serve` (it takes the same options), e.g. a bench runner."""
    port: int = 0
    host: str = "127.0.0.1"
    """The address it listens on (another test host reaches it there: tests/turn)."""
    provision: bool = True
    """Make an operator API key before the first start (a past meetwarden gets none)."""
    api_key: str | None = None
    account: tuple[str, str] | None = None
    process: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)
    _pump: threading.Thread | None = None
    _listening: threading.Event = field(default_factory=threading.Event)
    _described: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`meetwarden ARGS` on this server's database, in the server's environment."""
        where = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            where += ["--database-url", self.database_url]
        return subprocess.run(
            [CLI, *args, *where],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=120,
        )

    def create_account(
        self, username: str, password: str, *, by_command: bool = True
    ) -> tuple[str, str]:
        """A host account on this server, found by account_for: by `meetwarden accounts
        create`, or (``by_command=False``, on a server of ours) by the same code in this
        process, which spares a second process's imports (3 s on a loaded machine)."""
        if not by_command and self._ours():
            _in_process(
                self.data_dir, self.database_url, lambda h: h.create_account(username, password)
            )
        else:
            done = self.cli(
                "accounts", "create", username, "--password-stdin", stdin=password + "\n"
            )
            if done.returncode != 0:
                raise RuntimeError(f"meetwarden accounts create failed: {done.stderr}")
        self.account = (username, password)
        if self.process is not None:
            _ACCOUNTS[self.url] = self.account
        return self.account

    def _ours(self) -> bool:
        """This checkout's `meetwarden serve`, configured by its options alone."""
        return self.command is None and not any(k.startswith("MEETWARDEN_") for k in self.env)

    def _create_api_key(self) -> str | None:
        if self._ours():
            made = _in_process(
                self.data_dir, self.database_url, lambda h: h.create_api_key("tests")
            )
            return made.key
        done = self.cli("keys", "create", "--name", "tests")
        if done.returncode == 0:
            return done.stdout.strip().splitlines()[-1]
        if "No such command" in done.stderr:
            return None  # a past meetwarden (bench --against): it lets anyone create meetings
        raise RuntimeError(f"meetwarden keys create failed: {done.stderr}")

    def start(self, timeout: float = STARTUP_TIMEOUT) -> RunningServer:
        """Starts the server and waits until it listens."""
        self.launch()
        return self.ready(timeout)

    def launch(self) -> None:
        """Starts the server without waiting (``ready`` waits): several start at once."""
        if self.provision and self.api_key is None:
            self.api_key = self._create_api_key()
        args = [*(self.command or [CLI, "serve"]), "--port", str(self.port)]
        if self.host != "127.0.0.1":
            args += ["--host", self.host]
        args += ["--data-dir", str(self.data_dir)]
        args += ["--rtc-address", "127.0.0.1"]  # media stays on loopback in tests
        if self.database_url:
            args += ["--database-url", self.database_url]
        # One process unless the test asks for workers (``--workers`` in extra_args wins).
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MEETWARDEN_WORKERS": "1", **self.env}
        self.process = subprocess.Popen(
            args + self.extra_args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = self._listening = threading.Event()

        def pump() -> None:
            if self.process is None or self.process.stdout is None:
                return
            for line in self.process.stdout:
                self.log.append(line)
                if _DESCRIBED in line:
                    self._described.set()
                match = _LISTENING.search(line)
                if match:
                    self.port = int(match.group(1))
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    async def printed(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first log line matching ``pattern``, once the server printed it (30 s)."""
        for _ in range(600):
            for line in list(self.log):
                found = pattern.search(line)
                if found:
                    return found
            await asyncio.sleep(0.05)  # the log is read by another thread
        raise AssertionError("no such line in the server's log:\n" + "".join(self.log[-20:]))

    def ready(self, timeout: float = STARTUP_TIMEOUT) -> RunningServer:
        """Waits until the launched server listens (or raises with its last log lines).

        The wait ends as soon as the server listens or exits (the pump sets the event at
        the end of its output), so the timeout only bounds a server that hangs."""
        assert self.process is not None, "launch() first"
        started = time.monotonic()
        if not self._listening.wait(timeout) or self.process.poll() is not None:
            waited = time.monotonic() - started
            exited = self.process.poll()
            self.stop()
            why = f"exited with {exited}" if exited is not None else "not listening"
            raise RuntimeError(
                f"meetwarden serve did not start ({why} after {waited:.1f} s):\n"
                + "".join(self.log[-40:])
            )
        _RUNNING[self.url] = self
        if self.api_key is not None:
            _API_KEYS[self.url] = self.api_key
        if self.account is not None:
            _ACCOUNTS[self.url] = self.account
        return self

    def describe_media(self, timeout: float = 10.0) -> list[str]:
        """What the server's media connections are doing now: the lines it logs on
        SIGUSR1 (``MediaPlane.describe``), without their log prefix."""
        assert self.process is not None, "not running"
        self._described.clear()
        start = len(self.log)
        self.process.send_signal(signal.SIGUSR1)
        if not self._described.wait(timeout):
            raise AssertionError(f"the server described no media in {timeout} s")
        return [
            line.split("media: ", 1)[1].rstrip()
            for line in self.log[start:]
            if "media: " in line and _DESCRIBED not in line
        ]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if _RUNNING.get(self.url) is self:
            del _RUNNING[self.url]
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self._pump is not None:
            self._pump.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> RunningServer:
        """Stops and starts the process on the same data and the same port."""
        self.stop()
        return self.start()


def _in_process(
    data_dir: Path, database_url: str | None, work: Callable[[Hosting], Awaitable[T]]
) -> T:
    """``work`` on the server's database as `meetwarden keys create` and `accounts create`
    do it (the database is created and migrated first if need be)."""
    from meetwarden.server.auth import Passwords
    from meetwarden.server.config import Settings
    from meetwarden.server.hosting.service import Hosting
    from meetwarden.server.store import Store

    async def run() -> T:
        url = database_url or Settings(data_dir=data_dir).resolved_database_url
        store = await Store.open(url)
        try:
            return await work(Hosting(store, Passwords()))
        finally:
            await store.close()

    # Its own thread and loop: a test's fixture may be running in an event loop already.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result(timeout=120)
