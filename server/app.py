"""The FastAPI application: REST for hosts, the participant WebSocket, health."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from . import api, api_docs, capabilities, operations, web, ws
from .auth import Passwords, Tokens, load_or_create_secret
from .cascade import Cascade
from .cluster import CpuMeter, NodeLoad, SharedBudget
from .cluster.member import ClusterMember, ClusterUnavailableError
from .config import Settings
from .door import Door, socket_cap
from .files import routes as file_routes
from .files.sharing import FileSharing
from .hosting import routes as hosting_routes
from .hosting.service import Hosting
from .hosting.trusted_hosts import TrustedHosts, TrustedHostsMiddleware
from .i18n import from_accept_language
from .i18n.markers import N_
from .media import FORWARDED, MediaPlane
from .metrics import Live, ServerMetrics
from .placement import WorkerPlace
from .problems import ProblemError, problem_response
from .runtime.attempts import ADDRESS_LIMIT, ADDRESS_WINDOW
from .runtime.audit import AuditWriter
from .runtime.registry import Locate, MeetingElsewhereError, Registry
from .runtime.writes import StoreWrites
from .socket_route import Application, DirectSocketRoute
from .socket_slots import SocketCounts
from .store import Store
from .workers.metrics import WorkerMetrics

if TYPE_CHECKING:  # the annotation only: the dict is what FastAPI takes
    from fastapi.telemetry import TelemetryConfig

__all__ = ["TOKEN_KEY", "create_app"]

log = logging.getLogger("meetwarden.server")
DESCRIBE_SIGNAL = signal.SIGUSR1
"""Makes a running server log its media connections' states and counts."""
TOKEN_KEY = "token_signing"
"""The name of the token signing key in a shared database (server/store/server_keys.py)."""

NO_TELEMETRY: Final[TelemetryConfig] = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's own OpenTelemetry (https://fastapi.tiangolo.com/advanced/opentelemetry/), off.
Once a process has a tracer provider (an operator's ``opentelemetry-instrument``, or
``FASTAPI_OTEL_AUTO_CONFIGURE`` with ``OTEL_*`` variables), FastAPI records a span for
every request with its path and query: ``/m/{id}`` and ``/api/meetings/{id}/...`` hold a
meeting's whole id, which is its link, and an upload's query its file name. This log
keeps 8 characters of an id (``logs.py``); what is counted leaves at ``/metrics``,
labelled from closed sets only (``metrics.py``). Nothing is exported elsewhere."""


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
        described = _describe_media_on_signal(media)
        passwords = Passwords()
        app.state.hosting = Hosting(store, passwords)
        # Printed by `meetwarden serve` once it listens (server/cli_serve.py).
        # Nodes of a cluster each print one; each works until an account exists.
        app.state.setup_token = (
            await app.state.hosting.first_start_link(replace=not settings.redis_url)
            if first
            else None
        )
        # A node of several shares the database: what is half done may be another's.
        sweep = first and not settings.redis_url
        member = await _join_cluster(settings, app) if settings.redis_url else None
        app.state.cluster = member
        if member is not None:  # sign-in guesses: one budget for every node, in Redis
            client = member.client
            app.state.hosting.share_budgets(
                lambda name, limit, window: SharedBudget(client, name, limit, window)
            )
        locate = _worker_locate(place) if place is not None else None
        registry = Registry(
            store=store,
            tokens=Tokens(secret),
            passwords=passwords,
            audit=audit,
            writes=writes,
            media=media,
            turn=settings.turn,
            locate=member.locate if member is not None else locate,
            on_released=member.release if member is not None else None,
            holder_of=member.generation_of if member is not None else None,
        )
        app.state.registry = registry
        if member is not None:  # guesses per address: one budget for every node
            registry.join_attempts.share(
                SharedBudget(member.client, "join-address", ADDRESS_LIMIT, ADDRESS_WINDOW)
            )
            lookups = registry.api_lookups
            lookups.share(SharedBudget(member.client, "api-lookup", lookups.limit, lookups.window))
        cascade = None
        if member is not None:
            cascade = Cascade(
                member,
                registry,
                media,
                address=settings.node_address or "",
                pipe_host=settings.resolved_pipe_address,
                edge_after=settings.edge_after,
                requests=lambda: (app.state.files.access, app.state.capabilities),
            )
            await cascade.start()
        app.state.cascade = cascade
        app.state.edges = cascade.serving if cascade is not None else None
        app.state.metrics = ServerMetrics(lambda: _live(registry))
        # With several workers, the one a scrape reaches answers for them all.
        siblings = None
        if place is not None and place.count > 1:
            siblings = WorkerMetrics(place, app.state.metrics.exposition)
            await siblings.start()
        app.state.worker_metrics = siblings
        app.state.files = FileSharing.from_settings(settings, registry, secret)
        await app.state.files.start(sweep=sweep)
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
            if siblings is not None:
                await siblings.close()
            if cascade is not None:
                await cascade.close_edges()
            await registry.close()  # each meeting released for another node to take
            if cascade is not None:
                await cascade.stop()
            if member is not None:
                await member.stop()
            if described:
                asyncio.get_running_loop().remove_signal_handler(DESCRIBE_SIGNAL)
            if media is not None:
                await media.close()
            await writes.close()
            await audit.close()
            await store.close()

    app = Application(
        title="meetwarden",
        summary="A video-meeting server that enforces the host's privacy policy.",
        version=_version(),
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load scripts and fonts from CDNs; server/api_docs.py
        # serves a page of this server's own instead.
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    # /healthz tells a rebinding page nothing, and /metrics with a token needs what no page
    # has: both answer under any name (a health check or a scraper reaches them by address).
    open_paths = {"/healthz", "/metrics"} if token else {"/healthz"}
    hosts = TrustedHosts(settings.public_url, settings.host)
    app.add_middleware(TrustedHostsMiddleware, hosts=hosts, open_paths=frozenset(open_paths))
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

    async def elsewhere(request: Request, error: Exception) -> Any:
        # Another node holds this meeting: the same request, there. Another worker of
        # this machine: the same request again, on a new connection, which the front
        # process routes by its path (server/workers/front.py).
        assert isinstance(error, MeetingElsewhereError)
        url = str(request.url)
        if error.base_url:
            query = f"?{request.url.query}" if request.url.query else ""
            url = f"{error.base_url}{request.url.path}{query}"
        return RedirectResponse(url, 307, headers={"Connection": "close"})

    async def cluster_unavailable(request: Request, error: Exception) -> Any:
        language = from_accept_language(request.headers.get("accept-language"))
        problem = ProblemError(
            503,
            N_("Meeting unavailable"),
            N_("The servers cannot reach the meeting right now. Try again in a minute."),
            reason="cluster_unavailable",
        )
        log.warning("%s: %s", request.url.path, error)
        return problem_response(problem, language)

    # Bodies and sockets counted before anything reads them; a worker of `serve --workers N`
    # shares its socket count with the front process (workers/worker.py).
    app.state.place = place  # among the workers of `serve --workers N` (None: alone)
    app.state.socket_counts = SocketCounts(socket_cap())
    app.add_middleware(Door, counts=app.state.socket_counts)
    # A participant socket meets a door and a host check of its own, on the same counts
    # and names, and skips FastAPI's layers (socket_route.py).
    counts = app.state.socket_counts
    app.direct_socket = DirectSocketRoute(
        ws.MEETING_SOCKET,
        lambda endpoint: Door(TrustedHostsMiddleware(endpoint, hosts=hosts), counts=counts),
    )
    app.add_exception_handler(ProblemError, problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(MeetingElsewhereError, elsewhere)
    app.add_exception_handler(ClusterUnavailableError, cluster_unavailable)
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(file_routes.router)
    app.include_router(web.router)
    app.include_router(hosting_routes.router)
    app.include_router(api_docs.router)
    app.include_router(operations.router)
    app.include_router(capabilities.router)
    return app


def _describe_media_on_signal(media: MediaPlane | None) -> bool:
    """On SIGUSR1, log what every media connection is doing (``MediaPlane.describe``),
    as Go servers dump their goroutines on SIGQUIT; True if the handler was installed
    (only in the main thread: an app run by a test client has none)."""
    if media is None:
        return False

    def describe() -> None:
        lines = media.describe()
        for line in lines:
            log.info("media: %s", line)
        log.info("media: %d connection lines described", len(lines))

    try:
        asyncio.get_running_loop().add_signal_handler(DESCRIBE_SIGNAL, describe)
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return True


async def _join_cluster(settings: Settings, app: FastAPI) -> ClusterMember:
    assert settings.redis_url is not None
    assert settings.node_address is not None
    meter = CpuMeter()

    def load() -> NodeLoad:
        registry: Registry | None = getattr(app.state, "registry", None)
        rooms = registry.live() if registry is not None else []
        people = sum(len(room.sessions) for room in rooms)
        return NodeLoad(rooms=len(rooms), participants=people, cpu=meter.read())

    def cut_off() -> None:
        registry: Registry | None = getattr(app.state, "registry", None)
        if registry is not None:
            registry.give_up_all("this server lost the cluster: reconnect")

    member = ClusterMember(
        settings.redis_url,
        settings.node_id,
        settings.node_address,
        load,
        on_cut_off=cut_off,
        heartbeat=settings.heartbeat,
    )
    await member.start()
    return member


def _worker_locate(place: WorkerPlace) -> Locate:
    async def locate(meeting_id: str) -> str | None:
        return None if place.holds(meeting_id) else ""

    return locate


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
