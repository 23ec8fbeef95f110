"""A real meetwarden server for tests: `meetwarden serve` in its own process.

It listens on a free loopback port (uvicorn picks it; we read it from the
log), keeps its SQLite file and signing key in a temporary directory, and can
be stopped and started again on the same data (the restart tests).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunningServer"]

CLI = str(Path(sys.executable).with_name("meetwarden"))
_LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass
class RunningServer:
    data_dir: Path
    database_url: str | None = None
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    """What runs instead of `meetwarden serve` (it takes the same options), e.g. a bench runner."""
    port: int = 0
    process: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)
    _pump: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> RunningServer:
        args = [*(self.command or [CLI, "serve"]), "--port", str(self.port)]
        args += ["--data-dir", str(self.data_dir)]
        args += ["--rtc-address", "127.0.0.1"]  # media stays on loopback in tests
        if self.database_url:
            args += ["--database-url", self.database_url]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(
            args + self.extra_args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            if self.process is None or self.process.stdout is None:
                return
            for line in self.process.stdout:
                self.log.append(line)
                match = _LISTENING.search(line)
                if match:
                    self.port = int(match.group(1))
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not ready.wait(timeout) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("meetwarden serve did not start:\n" + "".join(self.log[-40:]))
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
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
