"""The participant socket's own way in: the door and the host check, then its endpoint.

A request reaches a FastAPI application through FastAPI's and Starlette's own layers
(the error page, exception telemetry, the body limit), then the application's middleware,
then the router, which asks each route of each included router in turn and takes the
request through its exception middleware and its exit stack. For the participant socket
(``/ws/meetings/{meeting_id}``), which answers every failure itself
(``ws.meeting_socket``), none of that does anything but cost: for a socket, the layers
pass it on untouched, and each stays on the socket's stack for as long as it is open
(a coroutine and its cells apiece, which the cycle collector walks). ``Application`` takes
such a socket in before them, through a door of its own and a host check of its own (the
application's: the same socket counts and the same trusted names), straight to its
endpoint; every other request goes through FastAPI as before, door and host check
included. The route stays in the application's router too, so that the application
describes the same paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match, WebSocketRoute
from starlette.websockets import WebSocket

__all__ = ["Application", "DirectSocketRoute"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DirectSocketRoute:
    """A WebSocket route taken straight to its endpoint, through ``guard`` (the door and
    the host check, made around the endpoint)."""

    def __init__(self, route: WebSocketRoute, guard: Callable[[ASGIApp], ASGIApp]) -> None:
        self.route = route
        self._endpoint: Callable[[WebSocket], Awaitable[None]] = route.endpoint
        self.app = guard(self._serve)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._endpoint(WebSocket(scope, receive, send))


class Application(FastAPI):
    """FastAPI, with one WebSocket route (``direct_socket``) taken in before its layers."""

    direct_socket: DirectSocketRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = self.direct_socket
        if direct is not None and scope["type"] == "websocket":
            if self.root_path:  # as FastAPI's own __call__ sets it, before the route matches
                scope["root_path"] = self.root_path
            # The route's own matching: its path pattern and converters, the root path
            # taken off as Starlette's router takes it.
            match, child = direct.route.matches(scope)
            if match is Match.FULL:
                scope["app"] = self  # as Starlette's __call__ sets it: ``websocket.app``
                scope.update(child)
                await direct.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
