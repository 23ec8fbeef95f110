"""The FastAPI application: REST for hosts, the participant WebSocket, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from . import api, api_docs, capabilities, operations, web, ws
from .auth import Passwords, Tokens, load_or_create_secret
from .config import Settings
from .door import Door
from .files import routes as file_routes
from .files.sharing import FileSharing
from .hosting import routes as hosting_routes
from .hosting.service import Hosting
from .hosting.trusted_hosts import TrustedHosts, TrustedHostsMiddleware
from .i18n import from_accept_language
from .media import FORWARDED, MediaPlane
from .metrics import Live, ServerMetrics
from .placement import WorkerPlace
from .problems import ProblemError, problem_response
from .runtime.audit import AuditWriter
from .runtime.registry import MeetingElsewhereError, Registry
from .runtime.writes import StoreWrites
from .store import Store

__all__ = ["TOKEN_KEY", "create_app"]

TOKEN_KEY = "token_signing"
"""The name of the token signing key in a shared database (server/store/server_keys.py)."""


def create_app(settings: Settings, place: WorkerPlace | None = None, first: bool = True) -> FastAPI:
    """The application of one server process.

    ``place``: this process's place among the workers of ``serve --workers N``
    (None: the only one, holding every meeting). ``first``: the first process to
    start on this data: it makes the first-account link and deletes what a stopped
    server left half done (a restarted worker must not: the others are running).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secret = load_or_create_secret(settings.data_dir)
        store = await Store.open(settings.resolved_database_url)
        if store.shareable:
            # Nodes may share this database: tokens one signs, every other verifies.
            secret = bytes.fromhex(await store.shared_key(TOKEN_KEY, secret.hex()))
        audit = AuditWriter(store)
        audit.start()
        writes = StoreWrites()
        writes.start()
        media = MediaPlane(host_addresses=settings.rtc_addresses) if settings.media else None
        app.state.store, app.state.media = store, media  # read by /healthz
        passwords = Passwords()
        app.state.hosting = Hosting(store, passwords)
        # Printed by `meetwarden serve` once it listens (server/cli_serve.py).
        app.state.setup_token = await app.state.hosting.first_start_link() if first else None
        registry = Registry(
            store=store,
            tokens=Tokens(secret),
            passwords=passwords,
            audit=audit,
            writes=writes,
            media=media,
            turn=settings.turn,
            holds=place.holds if place is not None else None,
        )
        app.state.registry = registry
        app.state.metrics = ServerMetrics(lambda: _live(registry))
        app.state.files = FileSharing.from_settings(settings, registry, secret)
        await app.state.files.start(sweep=first)
        # What a policy may ask of this server: checked when a meeting is created or its
        # policy replaced, described at /api/capabilities.
        app.state.capabilities = capabilities.started_with(
            version=app.version,
            media=media is not None,
            scanner=app.state.files.scanner is not None,
        )
        try:
            yield
        finally:
            await registry.close()
            if media is not None:
                await media.close()
            await writes.close()
            await audit.close()
            await store.close()

    app = FastAPI(
        title="meetwarden",
        summary="A video-meeting server that enforces the host's privacy policy.",
        version=_version(),
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load scripts and fonts from CDNs; server/api_docs.py
        # serves a page of this server's own instead.
        docs_url=None,
        redoc_url=None,
    )
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    # /healthz tells a rebinding page nothing, and /metrics with a token needs what no page
    # has: both answer under any name (a health check or a scraper reaches them by address).
    open_paths = {"/healthz", "/metrics"} if token else {"/healthz"}
    app.add_middleware(
        TrustedHostsMiddleware,
        hosts=TrustedHosts(settings.public_url, settings.host),
        open_paths=frozenset(open_paths),
    )
    app.state.version = app.version
    app.state.metrics_token = token
    app.state.public_url = settings.public_url
    app.state.allowed_origins = set(settings.allowed_origins)

    async def problem(request: Request, error: Exception) -> Any:
        assert isinstance(error, ProblemError)
        return problem_response(error, from_accept_language(request.headers.get("accept-language")))

    async def invalid(_: Request, error: Exception) -> Any:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid"}
        where = "/".join(str(part) for part in first["loc"])
        return problem_response(
            ProblemError(
                422, "Invalid request", f"{where}: {first['msg']}", reason="invalid_request"
            )
        )

    async def elsewhere(request: Request, _: Exception) -> Any:
        # Another worker holds this meeting: the same request again, on a new connection,
        # which the front process routes by its path (server/workers/front.py).
        return RedirectResponse(str(request.url), 307, headers={"Connection": "close"})

    app.add_middleware(Door)  # bodies and sockets counted before anything reads them
    app.add_exception_handler(ProblemError, problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(MeetingElsewhereError, elsewhere)
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(file_routes.router)
    app.include_router(web.router)
    app.include_router(hosting_routes.router)
    app.include_router(api_docs.router)
    app.include_router(operations.router)
    app.include_router(capabilities.router)
    return app


def _live(registry: Registry) -> Live:
    rooms = registry.live()
    return Live(
        meetings_open=len(rooms),
        participants_connected=sum(len(room.sessions) for room in rooms),
        forwarded_packets=FORWARDED.packets,
        forwarded_bytes=FORWARDED.octets,
    )


def _version() -> str:
    try:
        return version("meetwarden")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"
