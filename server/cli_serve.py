"""``meetwarden serve``: run the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meetwarden.client_sdk.protocol import MAX_MESSAGE_BYTES

from .config import Settings

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite database, the signing key and files live.")
    ] = Path("data"),
    database_url: Annotated[
        str | None,
        typer.Option(help="postgresql+asyncpg://user:password@host/db instead of SQLite."),
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The URL people use to reach this server, for join links.")
    ] = None,
) -> None:
    """Start the meeting server (SQLite under --data-dir unless --database-url says otherwise)."""
    import uvicorn

    from .app import create_app

    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        host=host,
        port=port,
        public_url=public_url.rstrip("/") if public_url else None,
    )
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop = "asyncio"
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        loop=loop,
        ws_max_size=MAX_MESSAGE_BYTES,
        ws_max_queue=16,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )
