"""How a server is run: where it keeps its data, where it listens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    """None: a SQLite file in data_dir."""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    """The address people use to reach the server (for join links); None: as requested."""
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    media: bool = True
    """Forward audio and video (WebRTC); off, the server runs signalling only."""
    rtc_addresses: tuple[str, ...] | None = None
    """Addresses offered to peers as ICE host candidates; None: every interface."""
    # File sharing (server/files/).
    files_dir: Path | None = None
    """Where uploaded files are stored, under server-generated ids; None: data_dir/files."""
    clamd_socket: str | None = None
    """clamd's Unix socket, for policies with file_share.scan (or clamd_address)."""
    clamd_address: str | None = None
    """clamd's host:port over TCP, instead of clamd_socket."""
    clamd_timeout: float = 60.0
    """Seconds a scan may take; past it the file is refused as file_scan_unavailable."""
    upload_total_timeout: float = 600.0
    """Seconds a whole upload may take."""
    upload_idle_timeout: float = 30.0
    """Seconds an upload may send nothing before it is stopped (slow-loris senders)."""

    @property
    def resolved_files_dir(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meetwarden.db').resolve()}"
