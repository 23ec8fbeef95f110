"""A real coturn for tests: the Debian package's ``turnserver``, with REST API credentials.

Started as the TURN section of docs/operating.md configures it
(``use-auth-secret``, ``static-auth-secret``, a realm, no CLI), on an address
the test gives and on free ports: plain TURN over UDP and TCP on one port,
TURN over TLS on another with a certificate made for the test (its own CA,
which a client must be told to trust). It is ready once it answers a STUN
Binding request on UDP and takes TCP and TLS connections; nothing sleeps.

It relays to the media server's addresses only (``denied-peer-ip`` everything,
``allowed-peer-ip`` those), as production should. One difference from
production: ``allow-loopback-peers``. The test server's media is on 127.0.0.1,
and coturn refuses to relay to loopback peers unless told (a guard a
production coturn keeps).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aioice import stun
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["REALM", "Coturn", "start_coturn"]

REALM = "meetwarden.test"
_START_TIMEOUT = 30.0


@dataclass
class Coturn:
    """A running turnserver: ``address``:``port`` for UDP and TCP, ``tls_port`` for TLS."""

    process: subprocess.Popen[bytes]
    directory: Path
    address: str
    port: int
    tls_port: int
    secret: str = field(repr=False)
    ca_file: Path
    """The certificate (self-signed) a TLS client must trust."""

    def urls(self, *transports: str) -> list[str]:
        """The TURN URLs of these transports (``udp``, ``tcp``, ``tls``), in that order."""
        made = {
            "udp": f"turn:{self.address}:{self.port}?transport=udp",
            "tcp": f"turn:{self.address}:{self.port}?transport=tcp",
            "tls": f"turns:{self.address}:{self.tls_port}?transport=tcp",
        }
        return [made[transport] for transport in transports or made]

    def log(self) -> str:
        path = self.directory / "turnserver.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _turnserver() -> str:
    found = shutil.which("turnserver") or (
        "/usr/bin/turnserver" if os.access("/usr/bin/turnserver", os.X_OK) else None
    )
    if found is None:
        pytest.fail(
            "turnserver is not installed, and the TURN tests run against a real coturn: run "
            "the test command from the README (`make test`), which installs the Debian "
            "package coturn, or `apt-get install coturn`."
        )
    return found


def _free_port(address: str) -> int:
    """A port free for both TCP and UDP on ``address`` (coturn listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind((address, 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind((address, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no port free for both TCP and UDP on {address}")


def _certificate(directory: Path, address: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``address`` (an IP SAN), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meetwarden test TURN")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "turn-cert.pem", directory / "turn-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def _answers_stun(address: str, port: int) -> bool:
    request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(bytes(request), (address, port))
        try:
            data = probe.recv(2048)
        except OSError:
            return False
    answer = stun.parse_message(data)
    return answer.transaction_id == request.transaction_id


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False


def start_coturn(
    directory: Path, address: str = "127.0.0.1", peers: tuple[str, ...] = ("127.0.0.1",)
) -> Coturn:
    """Start turnserver on ``address`` and return once it answers on every port. It relays
    to ``peers`` only (the media server's addresses), as docs/operating.md advises."""
    binary = _turnserver()
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = _certificate(directory, address)
    port = _free_port(address)
    tls_port = _free_port(address)
    secret = secrets.token_urlsafe(24)
    config = directory / "turnserver.conf"
    config.write_text(
        "\n".join(
            [
                f"listening-ip={address}",
                f"listening-port={port}",
                f"tls-listening-port={tls_port}",
                f"relay-ip={address}",
                "use-auth-secret",
                f"static-auth-secret={secret}",
                f"realm={REALM}",
                f"cert={cert_file}",
                f"pkey={key_file}",
                "no-dtls",
                "no-cli",
                "fingerprint",
                "no-tcp-relay",
                "no-multicast-peers",
                "denied-peer-ip=0.0.0.0-255.255.255.255",
                *(f"allowed-peer-ip={peer}" for peer in peers),
                "allow-loopback-peers",  # the test server's media is on 127.0.0.1 (above)
                f"log-file={directory / 'turnserver.log'}",
                "simple-log",
                "verbose",  # sessions and their users in the log
                "no-stdout-log",
                f"pidfile={directory / 'turnserver.pid'}",
                f"userdb={directory / 'turndb'}",  # not the system's /var/lib/turn/turndb
            ]
        )
        + "\n"
    )
    config.chmod(0o600)
    output = (directory / "turnserver.out").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=output, stderr=subprocess.STDOUT)
    output.close()
    coturn = Coturn(process, directory, address, port, tls_port, secret, cert_file)
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        try:
            # Waiting on the process doubles as the pause between tries and notices at
            # once if turnserver exits instead of listening.
            code: int | None = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            said = (directory / "turnserver.out").read_text(errors="replace") + coturn.log()
            pytest.fail(f"turnserver exited with {code} before listening:\n{said}")
        if _answers_stun(address, port) and _accepts(address, port) and _accepts(address, tls_port):
            return coturn
        if time.monotonic() > deadline:
            coturn.stop()
            pytest.fail(f"turnserver did not answer within {_START_TIMEOUT} s:\n{coturn.log()}")
