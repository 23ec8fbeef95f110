"""The FastAPI application: REST for hosts, the participant WebSocket, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from . import api, web, ws
from .auth import Passwords, Tokens, load_or_create_secret
from .config import Settings
from .files import routes as file_routes
from .files.sharing import FileSharing
from .problems import ProblemError, problem_response
from .runtime.audit import AuditWriter
from .runtime.media_bridge import MediaBridge
from .runtime.registry import Registry
from .store import Store

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secret = load_or_create_secret(settings.data_dir)
        store = await Store.open(settings.resolved_database_url)
        audit = AuditWriter(store)
        audit.start()
        media = MediaBridge(settings.rtc_addresses) if settings.media else None
        app.state.media = media
        registry = Registry(
            store=store, tokens=Tokens(secret), passwords=Passwords(), audit=audit, media=media
        )
        app.state.registry = registry
        if media is not None:
            registry.when_ended(media.meeting_ended)
        app.state.files = FileSharing.from_settings(settings, registry, secret)
        await app.state.files.start()
        try:
            yield
        finally:
            await registry.close()
            if media is not None:
                await media.close()
            await audit.close()
            await store.close()

    app = FastAPI(
        title="meetwarden",
        summary="A video-meeting server that enforces the host's privacy policy.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.public_url = settings.public_url
    app.state.allowed_origins = set(settings.allowed_origins)

    async def problem(_: Request, error: Exception) -> Any:
        assert isinstance(error, ProblemError)
        return problem_response(error)

    async def invalid(_: Request, error: Exception) -> Any:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid"}
        where = "/".join(str(part) for part in first["loc"])
        return problem_response(
            ProblemError(
                422, "Invalid request", f"{where}: {first['msg']}", reason="invalid_request"
            )
        )

    app.add_exception_handler(ProblemError, problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(file_routes.router)
    app.include_router(web.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
