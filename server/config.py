"""How a server is run: where it keeps its data, where it listens, what it logs.

Every setting can come from the environment as ``MEETWARDEN_`` and the name of
the ``meetwarden serve`` flag that sets it (``--data-dir`` is
``MEETWARDEN_DATA_DIR``, ``--rtc-address`` is ``MEETWARDEN_RTC_ADDRESS``, a
comma-separated list). A value given to the constructor (a flag) wins over the
environment, which wins over the default: pydantic-settings' own order.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def resolved_files_dir(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meetwarden.db').resolve()}"
