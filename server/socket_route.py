"""The participant socket's own way in: past the door, straight to its endpoint.

FastAPI finds a socket's route by asking each route of each included router in
turn, and takes it through its exception middleware and its exit stack; for the
participant socket (``/ws/meetings/{meeting_id}``), which answers every failure
itself (``ws.meeting_socket``), that was a measurable part of every join. This
middleware sits inside the door and the trusted-hosts check (every socket still
meets both) and hands a socket whose path is that route's straight to its
endpoint; anything else goes on to FastAPI as before. The route stays in the
application's router too, so that the application describes the same paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.routing import Match, WebSocketRoute
from starlette.websockets import WebSocket

__all__ = ["DirectSocketRoute"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DirectSocketRoute:
    """ASGI middleware: sockets matching ``route`` go to its endpoint, the rest to ``app``."""

    def __init__(self, app: ASGIApp, route: WebSocketRoute) -> None:
        self.app = app
        self._route = route
        self._endpoint: Callable[[WebSocket], Awaitable[None]] = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # The route's own matching: its path pattern and converters, the root path
            # taken off as Starlette's router takes it.
            match, child = self._route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                await self._endpoint(WebSocket(scope, receive, send))
                return
        await self.app(scope, receive, send)
