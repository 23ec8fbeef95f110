"""One worker of ``serve --workers N``: the server, fed connections by the front process.

It runs uvicorn as ``meetwarden serve`` does, listening on nothing of its own: each
connection arrives as a descriptor over the channel (handoff.py) and is adopted
with ``loop.connect_accepted_socket`` under uvicorn's own HTTP/WebSocket
protocol, so uvicorn serves it, counts it and closes it at shutdown as if it had
accepted it. The worker stops when the front process is gone (the channel's EOF,
or the parent-death signal if the front was killed).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
from typing import Any

from ..config import Settings
from ..placement import WorkerPlace
from ..runtime.attempts import ADDRESS_LIMIT, ADDRESS_WINDOW
from .handoff import CONNECTION, READY, TAKEN, Channel
from .shared_budget import SharedBudgets
from .shared_slots import SharedSlots

__all__ = ["run_worker"]

_PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with_parent() -> None:
    """SIGTERM when the front process dies, however it dies (prctl(2) PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux; the channel's EOF stops us
        pass


def run_worker(
    settings: Settings, place: WorkerPlace, first: bool, end: socket.socket, public_port: int
) -> None:
    """The worker process's main function (multiprocessing's spawn target)."""
    _die_with_parent()
    from ..app import create_app
    from ..logs import configure_logging
    from ..serving import uvicorn_config

    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, place, first)
    server = _server(uvicorn_config(app, settings), app, settings, end, public_port)
    server.run()
    sys.exit(0 if server.started else 3)  # 3: uvicorn said why (a database it cannot open)


def _server(config: Any, app: Any, settings: Settings, end: socket.socket, port: int) -> Any:
    import uvicorn

    from ..collector import settle_collector
    from ..hosting.setup_link import local_base_url, print_setup_link

    class Worker(uvicorn.Server):
        channel: Channel | None = None
        adopting: set[asyncio.Task[None]]

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=[])  # no listening socket: the front accepts
            if not self.started:
                return
            settle_collector()  # started: what startup made stays, collected no more
            loop = asyncio.get_running_loop()
            uvicorn_config = self.config
            self.adopting = set()

            def protocol() -> asyncio.Protocol:
                # What uvicorn's own startup hands loop.create_server (uvicorn/server.py).
                return uvicorn_config.http_protocol_class(  # type: ignore[call-arg]
                    config=uvicorn_config,
                    server_state=self.server_state,
                    app_state=self.lifespan.state,
                    _loop=loop,
                )

            def arrived(kind: bytes, descriptor: int | None) -> None:
                if descriptor is None:
                    if kind[:1] == TAKEN:
                        budgets.message(kind)  # the guessing budgets' answers
                    else:
                        shared.message(kind)  # the socket count's answers
                    return
                if kind != CONNECTION:
                    os.close(descriptor)
                    return
                task = loop.create_task(_adopt(loop, protocol, descriptor))
                self.adopting.add(task)
                task.add_done_callback(self.adopting.discard)

            def front_gone() -> None:
                shared.front_gone()
                budgets.front_gone()
                self.should_exit = True

            self.channel = Channel(end)
            # One address's sockets, counted across the workers by the front process.
            shared = SharedSlots(self.channel)
            app.state.socket_counts.share(shared)
            # And guesses per address (unless a cluster counts them in Redis).
            budgets = SharedBudgets(self.channel)
            registry = app.state.registry
            if not registry.join_attempts.shared:
                registry.join_attempts.share(
                    budgets.budget("join-address", ADDRESS_LIMIT, ADDRESS_WINDOW)
                )
            lookups = registry.api_lookups  # and the host API's failed lookups per client
            if not lookups.shared:
                lookups.share(budgets.budget("api-lookup", lookups.limit, lookups.window))
            self.channel.listen(arrived, front_gone)
            token = getattr(app.state, "setup_token", None)
            if token is not None:
                print_setup_link(settings.public_url or local_base_url(settings.host, port), token)
            await self.channel.send(READY)

        async def shutdown(self, sockets: Any = None) -> None:
            if self.channel is not None:
                self.channel.close()  # no new connections; the front sends them elsewhere
            await super().shutdown(sockets)

    return Worker(config)


async def _adopt(loop: asyncio.AbstractEventLoop, protocol: Any, descriptor: int) -> None:
    connection = socket.socket(fileno=descriptor)
    connection.setblocking(False)
    try:
        await loop.connect_accepted_socket(protocol, connection)
    except OSError:  # the client left before it was adopted
        connection.close()
