"""``meetwarden serve``: run the server."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from .config import Settings, env_name

__all__ = ["HELP", "OPTIONS", "run", "serve"]

HELP = (
    "Start the meeting server (SQLite under --data-dir unless --database-url says otherwise)."
    "\n\n"
    "Every option can also be set in the environment as MEETWARDEN_ and the option's name: "
    "--data-dir is MEETWARDEN_DATA_DIR, --public-url is MEETWARDEN_PUBLIC_URL, --rtc-address "
    "takes a comma-separated list. An option on the command line wins over the environment. "
    "docs/operating.md has the whole list."
)

# The options of `serve`, each with the Settings field it sets (docs/operating.md lists them).
OPTIONS = {
    "host": "host",
    "port": "port",
    "workers": "workers",
    "data_dir": "data_dir",
    "database_url": "database_url",
    "public_url": "public_url",
    "rtc_address": "rtc_addresses",
    "trusted_proxy": "trusted_proxies",
    "turn_url": "turn_urls",
    "turn_secret": "turn_secret",
    "turn_ttl": "turn_ttl",
    "media": "media",
    "files_dir": "files_dir",
    "clamd_socket": "clamd_socket",
    "clamd_address": "clamd_address",
    "clamd_timeout": "clamd_timeout",
    "upload_timeout": "upload_total_timeout",
    "upload_idle_timeout": "upload_idle_timeout",
    "log_level": "log_level",
    "log_format": "log_format",
    "metrics_token": "metrics_token",
    "redis_url": "redis_url",
    "node_id": "node_id",
    "node_address": "node_address",
    "heartbeat": "heartbeat",
    "drain_timeout": "drain_timeout",
    "pipe_address": "pipe_address",
    "edge_after": "edge_after",
}


def _default(field: str) -> Any:
    return Settings.model_fields[field].default


_DATA_DIR: Path = _default("data_dir")


def serve(
    context: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = _default("host"),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = _default("port"),
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes behind the one port; each meeting lives on one of them. "
            "Default: one per core.",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite database, the signing key and files live.")
    ] = _DATA_DIR,
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
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="A reverse proxy's address or network whose X-Forwarded-For is believed "
            "(per-address limits then count the real client); repeat for more. Default: none.",
            show_default=False,
        ),
    ] = None,
    turn_url: Annotated[
        list[str] | None,
        typer.Option(
            help="A TURN server for clients that cannot reach the media ports, e.g. "
            "turn:turn.example.org:3478?transport=udp or turns:turn.example.org:443"
            "?transport=tcp; repeat for more. Needs --turn-secret. Default: none.",
            show_default=False,
        ),
    ] = None,
    turn_secret: Annotated[
        str | None,
        typer.Option(
            help="The secret shared with the TURN servers (coturn's static-auth-secret). "
            "Better set as MEETWARDEN_TURN_SECRET: a command line is visible in ps.",
            show_default=False,
        ),
    ] = None,
    turn_ttl: Annotated[
        int, typer.Option(help="Seconds a participant's TURN credential is valid.")
    ] = _default("turn_ttl"),
    media: Annotated[bool, typer.Option(help="Forward audio and video.")] = _default("media"),
    files_dir: Annotated[
        Path | None, typer.Option(help="Where shared files are kept. Default: DATA_DIR/files.")
    ] = None,
    clamd_socket: Annotated[
        str | None, typer.Option(help="clamd's Unix socket, for policies that scan files.")
    ] = None,
    clamd_address: Annotated[
        str | None, typer.Option(help="clamd's HOST:PORT (TCP), instead of --clamd-socket.")
    ] = None,
    clamd_timeout: Annotated[
        float, typer.Option(help="Seconds a malware scan may take.")
    ] = _default("clamd_timeout"),
    upload_timeout: Annotated[
        float, typer.Option(help="Seconds a whole upload may take.")
    ] = _default("upload_total_timeout"),
    upload_idle_timeout: Annotated[
        float, typer.Option(help="Seconds an upload may send nothing before it is stopped.")
    ] = _default("upload_idle_timeout"),
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info or debug.")
    ] = _default("log_level"),
    log_format: Annotated[
        str, typer.Option(help="text, or json: one object a line, with the meeting's id.")
    ] = _default("log_format"),
    metrics_token: Annotated[
        str | None,
        typer.Option(
            help="A bearer token that opens /metrics to any address. Without one, /metrics "
            "answers loopback clients only.",
            show_default=False,
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help='redis://host:6379/0 shared by several nodes (docs/operating.md, "Many '
            'machines"). Default: none, one node on its own.',
            show_default=False,
        ),
    ] = None,
    node_id: Annotated[
        str | None,
        typer.Option(
            help="This node's name among the others (letters, digits, '.', '_', '-'). "
            "Default: a random one.",
            show_default=False,
        ),
    ] = None,
    node_address: Annotated[
        str | None,
        typer.Option(
            help="The URL other nodes and clients reach this node at directly, e.g. "
            "http://10.0.0.5:8000 (a meeting's people are sent there); needed with --redis-url.",
            show_default=False,
        ),
    ] = None,
    heartbeat: Annotated[
        float,
        typer.Option(
            help="With --redis-url: seconds between this node's heartbeats. A dead node's "
            "meetings move after three of them; all nodes should use the same."
        ),
    ] = _default("heartbeat"),
    drain_timeout: Annotated[
        float,
        typer.Option(
            help="With --redis-url: seconds a draining node (the first SIGTERM) waits for "
            "its meetings to empty before it stops; their people then move to other nodes."
        ),
    ] = _default("drain_timeout"),
    pipe_address: Annotated[
        str | None,
        typer.Option(
            help="With --redis-url: this node's address on the network between nodes, where "
            "its media pipes (UDP) are bound. Default: the host of --node-address.",
            show_default=False,
        ),
    ] = None,
    edge_after: Annotated[
        int | None,
        typer.Option(
            help="With --redis-url: once a meeting holds this many people on its node, people "
            "who join it at another node stay there as viewers (receive only) fed by one pipe. "
            "Default: off (everyone is sent to the meeting's node).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the meeting server (the command line help is HELP, above)."""
    # Only what was given on the command line goes to Settings, which reads the rest
    # from the environment (MEETWARDEN_...) or takes its defaults.
    given = {
        field: context.params[option]
        for option, field in OPTIONS.items()
        if _from_command_line(context, option)
    }
    try:
        settings = Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "settings"
        typer.echo(f"meetwarden: {where}: {first['msg']} (check {_origin(where)}).", err=True)
        raise typer.Exit(2) from None
    problem = settings.turn_problem()
    if problem is not None:
        typer.echo(
            f"meetwarden: turn_secret: {problem} (check {_origin('turn_secret')}).", err=True
        )
        raise typer.Exit(2)
    cluster = settings.cluster_problem()
    if cluster is not None:
        field, why = cluster
        typer.echo(f"meetwarden: {field}: {why} (check {_origin(field)}).", err=True)
        raise typer.Exit(2)
    run(settings)


def _from_command_line(context: typer.Context, option: str) -> bool:
    # Typer carries its own copy of click, so its ParameterSource is compared by name.
    source = context.get_parameter_source(option)
    return source is not None and source.name == "COMMANDLINE"


def _origin(field: str) -> str:
    option = next((name for name, f in OPTIONS.items() if f == field or name == field), field)
    flag = "--" + option.replace("_", "-")
    return f"{flag} or {env_name(flag)}"


def run(settings: Settings) -> None:
    """Claims the data directory, then serves until stopped."""
    from .app import create_app
    from .data_dir import DataDirError, claim_data_dir
    from .logs import configure_logging
    from .serving import uvicorn_config

    configure_logging(settings.log_level, settings.log_format)
    if settings.turn_secret is not None and not settings.turn_urls:
        logging.getLogger("meetwarden.server").warning(
            "a TURN secret is set but no --turn-url (MEETWARDEN_TURN_URL): clients get no "
            "TURN servers"
        )
    try:
        lock = claim_data_dir(settings.data_dir)
    except DataDirError as error:
        typer.echo(f"meetwarden: {error}", err=True)
        raise typer.Exit(1) from None
    if settings.worker_count > 1:
        from .workers.supervisor import run_workers

        try:
            code = run_workers(settings, settings.worker_count)
        finally:
            lock.release()
        if code:
            raise typer.Exit(code)
        return
    app = create_app(settings)
    config = uvicorn_config(app, settings)
    server = _server(config, app, settings)
    try:
        server.run()
    finally:
        lock.release()
    if not server.started:
        raise typer.Exit(3)  # uvicorn said why (an address in use, a database it cannot open)


def _server(config: Any, app: Any, settings: Settings) -> Any:
    """uvicorn's server, which prints the first account's set-up link once it listens
    (only then is the port known: ``--port 0`` lets the system choose one), and which,
    as a node of several, drains at the first SIGTERM or SIGINT (server/draining.py).
    """
    import uvicorn

    from .collector import settle_collector
    from .draining import drain_then_stop
    from .hosting.setup_link import local_base_url, print_setup_link

    class Server(uvicorn.Server):
        draining: asyncio.Task[None] | None = None
        loop: asyncio.AbstractEventLoop | None = None

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            self.loop = asyncio.get_running_loop()
            settle_collector()  # started: what startup made stays, collected no more
            token = getattr(app.state, "setup_token", None)
            if token is None or not self.servers or not self.servers[0].sockets:
                return
            port = self.servers[0].sockets[0].getsockname()[1]
            print_setup_link(settings.public_url or local_base_url(settings.host, port), token)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            member = getattr(app.state, "cluster", None)
            if member is None or self.loop is None or self.draining is not None:
                super().handle_exit(sig, frame)  # the second signal stops at once
                return
            self._captured_signals.append(sig)  # re-raised after the stop, as uvicorn does

            def stop() -> None:
                self.should_exit = True

            self.draining = self.loop.create_task(
                drain_then_stop(
                    member,
                    app.state.registry,
                    settings.drain_timeout,
                    stop,
                    getattr(app.state, "edges", None),
                )
            )

    return Server(config)
