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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meetwarden.db').resolve()}"
