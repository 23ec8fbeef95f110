"""How a server is run: where it keeps its data, where it listens, what it logs.

Every setting can come from the environment as ``MEETWARDEN_`` and the name of
the ``meetwarden serve`` flag that sets it (``--data-dir`` is
``MEETWARDEN_DATA_DIR``, ``--rtc-address`` is ``MEETWARDEN_RTC_ADDRESS``, a
comma-separated list). A value given to the constructor (a flag) wins over the
environment, which wins over the default: pydantic-settings' own order.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .cluster.nodes import check_node_id, new_node_id
from .turn import DEFAULT_TTL, TurnCredentials, check_turn_url

__all__ = ["ENV_PREFIX", "LogFormat", "LogLevel", "Settings", "env_name"]

ENV_PREFIX = "MEETWARDEN_"
LogLevel = Literal["critical", "error", "warning", "info", "debug"]
LogFormat = Literal["text", "json"]


def env_name(flag: str) -> str:
    """The environment variable of a ``serve`` flag: ``--data-dir`` -> MEETWARDEN_DATA_DIR."""
    return ENV_PREFIX + flag.removeprefix("--").replace("-", "_").upper()


def _flag(name: str, default: Any) -> Any:
    """A field whose flag (and so its variable) is named differently from the field."""
    return Field(default, validation_alias=env_name(name))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        # Other MEETWARDEN_ variables exist (the SDK's MEETWARDEN_API_KEY, tests' knobs).
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    """None: a SQLite file in data_dir."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = Field(None, ge=1, le=256)
    """Server processes behind the one port (server/workers/); None: one per core."""
    public_url: str | None = None
    """The address people use to reach the server (for join links); None: as requested."""
    allowed_origins: tuple[str, ...] = ()
    media: bool = True
    """Forward audio and video (WebRTC); off, the server runs signalling only."""
    rtc_addresses: Annotated[tuple[str, ...] | None, NoDecode] = _flag("rtc-address", None)
    """Addresses offered to peers as ICE host candidates; None: every interface."""
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = _flag("trusted-proxy", ())
    """Reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto
    are believed; from anyone else those headers are ignored."""
    # TURN (server/turn.py): relay servers handed to admitted participants.
    turn_urls: Annotated[tuple[str, ...], NoDecode] = _flag("turn-url", ())
    """TURN servers (RFC 7065 URLs) for clients that cannot reach the media ports directly."""
    turn_secret: SecretStr | None = None
    """The secret shared with the TURN servers (coturn's static-auth-secret)."""
    turn_ttl: int = Field(DEFAULT_TTL, ge=60, le=7 * 86_400)
    """Seconds a participant's TURN credential is valid for making allocations."""
    # File sharing (server/files/).
    files_dir: Path | None = None
    """Where uploaded files are stored, under server-generated ids; None: data_dir/files."""
    clamd_socket: str | None = None
    """clamd's Unix socket, for policies with file_share.scan (or clamd_address)."""
    clamd_address: str | None = None
    """clamd's host:port over TCP, instead of clamd_socket."""
    clamd_timeout: float = 60.0
    """Seconds a scan may take; past it the file is refused as file_scan_unavailable."""
    upload_total_timeout: float = _flag("upload-timeout", 600.0)
    """Seconds a whole upload may take."""
    upload_idle_timeout: float = 30.0
    """Seconds an upload may send nothing before it is stopped (slow-loris senders)."""
    # Several nodes sharing Redis (server/cluster/; multi-node mode is in progress).
    redis_url: str | None = None
    """The Redis the nodes share for placement, health and messages; None: one node alone."""
    node_id: str = Field(default_factory=new_node_id)
    """This node's name among the others; by default a random one, new at each start."""
    node_address: str | None = None
    """The URL other nodes and clients reach this node at directly (http://10.0.0.5:8000):
    a meeting's people are sent there; needed with redis_url."""
    pipe_address: str | None = None
    """With redis_url: the address of this node on the network between nodes, where its
    media pipes (UDP) are bound; None: the host of node_address."""
    edge_after: int | None = Field(None, ge=0)
    """With redis_url: once a meeting holds this many people on its node, someone who
    joins at another node stays there as an edge viewer (server/cascade/); None: off."""
    heartbeat: float = Field(2.0, ge=0.1, le=60)
    """With redis_url: seconds between this node's heartbeats. Its entry lives three of
    them, so a dead node's meetings are taken over after 3 heartbeats; a node cut off
    from Redis gives its meetings up after 2."""
    drain_timeout: float = Field(3600.0, ge=0)
    """With redis_url: seconds a draining node (the first SIGTERM) waits for its
    meetings to empty before it stops and their people move to other nodes."""
    # Operations (docs/operating.md).
    log_level: LogLevel = "info"
    log_format: LogFormat = "text"
    metrics_token: SecretStr | None = None
    """A bearer token that opens /metrics to any address; None: loopback clients only."""

    @field_validator("rtc_addresses", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip()) or None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for proxy in value or ():
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an address or a network such as 10.0.0.5 or 10.0.0.0/8"
                ) from None
        return tuple(value or ())

    @field_validator("turn_urls", mode="before")
    @classmethod
    def _turn_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(check_turn_url(url) for url in value or ())

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme in ("redis", "rediss") and parts.hostname:
            return value
        if parts.scheme == "unix" and parts.path:
            return value
        raise ValueError(
            f"{_shown(value)!r} is not a Redis URL: write redis://host:6379/0, "
            "rediss://host:6380 (TLS) or unix:///run/redis/redis.sock"
        )

    @field_validator("node_id")
    @classmethod
    def _node_id(cls, value: str) -> str:
        return check_node_id(value)

    @field_validator("node_address")
    @classmethod
    def _node_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ValueError(
                f"{value!r} is not an address other nodes can reach: write it as a URL such "
                "as http://10.0.0.5:8000"
            )
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        if self.redis_url:
            return 1  # a node of several machines is one process (docs/operating.md)
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1

    @property
    def resolved_files_dir(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @property
    def turn(self) -> TurnCredentials | None:
        """The TURN servers and their secret, if both are configured."""
        if not self.turn_urls or self.turn_secret is None:
            return None
        return TurnCredentials(self.turn_urls, self.turn_secret, self.turn_ttl)

    def turn_problem(self) -> str | None:
        """Why the TURN settings cannot serve (checked by ``serve``, not here: the other
        commands read the same environment and need no TURN)."""
        if self.turn_urls and (self.turn_secret is None or not self.turn_secret.get_secret_value()):
            return (
                "--turn-url needs the secret meetwarden shares with the TURN server "
                "(coturn's static-auth-secret)"
            )
        return None

    def cluster_problem(self) -> tuple[str, str] | None:
        """(field, why) when the multi-node settings do not go together (checked by
        ``serve``, like ``turn_problem``)."""
        if self.redis_url and not self.node_address:
            return (
                "node_address",
                "--redis-url needs --node-address, the URL the other nodes reach this one at",
            )
        if self.redis_url and self.workers is not None and self.workers > 1:
            return (
                "workers",
                "a node of several machines is one process for now: run one node per core, "
                "each with its own --port and --node-address",
            )
        if (self.edge_after is not None or self.pipe_address) and not self.redis_url:
            return (
                "redis_url",
                "--edge-after and --pipe-address are for several nodes, which find each other "
                "through --redis-url",
            )
        if self.node_address and not self.redis_url:
            return (
                "redis_url",
                "--node-address is for several nodes, which find each other through --redis-url",
            )
        return None

    @property
    def resolved_pipe_address(self) -> str:
        """Where this node binds its media pipes: ``pipe_address``, else node_address's host."""
        if self.pipe_address:
            return self.pipe_address
        host = urlsplit(self.node_address or "").hostname
        return host or "127.0.0.1"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meetwarden.db').resolve()}"


def _shown(url: str) -> str:
    """A URL without its password, to be shown in an error."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(":" + parts.password + "@", ":***@", 1)
