"""``meetwarden serve``: run the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from meetwarden.protocol import MAX_MESSAGE_BYTES

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
    rtc_address: Annotated[
        list[str] | None,
        typer.Option(help="Address to offer for media (ICE); repeat for more. Default: all."),
    ] = None,
    media: Annotated[bool, typer.Option(help="Forward audio and video.")] = True,
    files_dir: Annotated[
        Path | None, typer.Option(help="Where shared files are kept. Default: DATA_DIR/files.")
    ] = None,
    clamd_socket: Annotated[
        str | None, typer.Option(help="clamd's Unix socket, for policies that scan files.")
    ] = None,
    clamd_address: Annotated[
        str | None, typer.Option(help="clamd's HOST:PORT (TCP), instead of --clamd-socket.")
    ] = None,
    clamd_timeout: Annotated[float, typer.Option(help="Seconds a malware scan may take.")] = 60.0,
    upload_timeout: Annotated[float, typer.Option(help="Seconds a whole upload may take.")] = 600.0,
    upload_idle_timeout: Annotated[
        float, typer.Option(help="Seconds an upload may send nothing before it is stopped.")
    ] = 30.0,
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
        media=media,
        rtc_addresses=tuple(rtc_address) if rtc_address else None,
        files_dir=files_dir,
        clamd_socket=clamd_socket,
        clamd_address=clamd_address,
        clamd_timeout=clamd_timeout,
        upload_total_timeout=upload_timeout,
        upload_idle_timeout=upload_idle_timeout,
    )
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop = "asyncio"
    app = create_app(settings)
    config = uvicorn.Config(
        app,
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
    server = _server(config, app, settings)
    server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn said why (an address in use, a database it cannot open)


def _server(config: Any, app: Any, settings: Settings) -> Any:
    """uvicorn's server, which prints the first account's set-up link once it listens.

    Only then is the port known (``--port 0`` lets the system choose one).
    """
    import uvicorn

    from .hosting.setup_link import local_base_url, print_setup_link

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            token = getattr(app.state, "setup_token", None)
            if token is None or not self.servers or not self.servers[0].sockets:
                return
            port = self.servers[0].sockets[0].getsockname()[1]
            print_setup_link(settings.public_url or local_base_url(settings.host, port), token)

    return Server(config)
