"""A real ClamAV daemon for tests, with a signature database the test writes itself.

clamd is the Debian ``clamav-daemon`` binary, started with a database that
holds one MD5 signature of the EICAR test file (see
shared/notes/clamd-testing.md), because the public signature download is
not reachable from the test machines. It starts in well under a second.
Used by tests/files (the scanner) and tests/server (file sharing end to end).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from meetwarden.server.files.scanner import ClamdScanner

__all__ = ["EICAR", "EICAR_SIGNATURE", "STREAM_MAX_LENGTH", "Clamd", "start_clamd"]

# The 68-byte EICAR anti-virus test file (eicar.org): harmless, and every scanner's test input.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Meetwarden.Test.EICAR"
# Small, so that a test can cross it cheaply.
STREAM_MAX_LENGTH = 1024 * 1024
_START_TIMEOUT = 30.0


@dataclass
class Clamd:
    """A running clamd; ``socket_path`` or ``port`` is where it listens."""

    process: subprocess.Popen[bytes]
    directory: Path
    socket_path: Path | None = None
    port: int | None = None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def scanner(self, timeout: float = 10.0) -> ClamdScanner:
        if self.socket_path is not None:
            return ClamdScanner(socket_path=self.socket_path, timeout=timeout)
        return ClamdScanner(host="127.0.0.1", port=self.port or 0, timeout=timeout)

    def log(self) -> str:
        path = self.directory / "clamd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _clamd_binary() -> str:
    found = shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            "clamd is not installed, and the scanner tests need a real one: run the test "
            "command from the README (`make test`), which installs the Debian package "
            "clamav-daemon, or `apt-get install clamav-daemon`."
        )
    return found


def _ping(clamd: Clamd) -> bytes:
    family = socket.AF_UNIX if clamd.socket_path else socket.AF_INET
    address = str(clamd.socket_path) if clamd.socket_path else ("127.0.0.1", clamd.port)
    with socket.socket(family, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        connection.connect(address)
        connection.sendall(b"zPING\0")
        return connection.recv(64)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_clamd(directory: Path, *, tcp: bool = False) -> Clamd:
    """Start clamd in ``directory`` and return once it has answered PONG."""
    binary = _clamd_binary()
    database = directory / "db"
    database.mkdir(parents=True)
    (directory / "tmp").mkdir()
    digest = hashlib.md5(EICAR).hexdigest()
    (database / "meetwarden-test.hdb").write_text(f"{digest}:{len(EICAR)}:{EICAR_SIGNATURE}\n")
    socket_path: Path | None = None
    port: int | None = None
    lines = [
        f"DatabaseDirectory {database}",
        "Foreground yes",
        f"LogFile {directory / 'clamd.log'}",
        f"TemporaryDirectory {directory / 'tmp'}",
        f"StreamMaxLength {STREAM_MAX_LENGTH}",
    ]
    if tcp:
        port = _free_port()
        lines += ["TCPAddr 127.0.0.1", f"TCPSocket {port}"]
    else:
        socket_path = directory / "clamd.sock"
        lines += [f"LocalSocket {socket_path}", "LocalSocketMode 600"]
    if os.geteuid() == 0:
        lines.append("User root")  # clamd would otherwise switch to the clamav user
    (directory / "clamd.conf").write_text("\n".join(lines) + "\n")
    output = (directory / "clamd.out").open("wb")
    process = subprocess.Popen(
        [binary, "--config-file", str(directory / "clamd.conf")],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()
    clamd = Clamd(process, directory, socket_path, port)
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        try:
            # Waiting on the process doubles as the pause between tries and
            # notices at once if clamd exits instead of listening.
            code = clamd.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            output_text = (directory / "clamd.out").read_text(errors="replace")
            pytest.fail(f"clamd exited with {code} before listening:\n{output_text}")
        try:
            if _ping(clamd) == b"PONG\0":
                return clamd
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            clamd.stop(signal.SIGKILL)
            pytest.fail(f"clamd did not answer PING within {_START_TIMEOUT} s:\n{clamd.log()}")
