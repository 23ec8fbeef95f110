"""uvicorn's configuration for a meetwarden process, alone or as one of the workers."""

from __future__ import annotations

from typing import Any

from meetwarden.protocol import MAX_MESSAGE_BYTES

from .config import Settings
from .logs import uvicorn_log_level

__all__ = ["uvicorn_config"]


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return "asyncio"
    return "uvloop"


def uvicorn_config(app: Any, settings: Settings) -> Any:
    """The uvicorn.Config that serves ``app`` as ``settings`` say."""
    import uvicorn

    from .uvicorn_protocols import HttpProtocol, WebSocketProtocol

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop=_loop(),
        # uvicorn's own (httptools, websockets-sansio), with two reference cycles broken:
        # a connection's objects are freed when it ends, not by the cycle collector.
        http=HttpProtocol,
        ws=WebSocketProtocol,
        ws_max_size=MAX_MESSAGE_BYTES,
        ws_max_queue=16,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # No permessage-deflate (RFC 7692), whatever a client offers: a participant's
        # stream carries secrets (the resume and device tokens of ``welcome`` and
        # ``admitted``) beside text others choose (chat, names), and compressing both in
        # one context lets whoever sees the encrypted lengths guess the secrets, as CRIME
        # and BREACH did with HTTPS (ASP.NET Core names the option
        # ``DangerousEnableCompression`` for this reason; Apache TinkerPop turned it off,
        # TINKERPOP-2700). A compressed frame from a client is refused unread.
        ws_per_message_deflate=False,
        log_config=None,  # configure_logging's handler and format, for uvicorn's lines too
        log_level=uvicorn_log_level(settings.log_level),
        # uvicorn's ProxyHeadersMiddleware: X-Forwarded-For and -Proto believed only from
        # these addresses, the client taken as the last hop that is not one of them.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
        server_header=False,
    )
