"""The media plane: what the whole process shares, and the rooms it made.

DESIGN.md ("The Room"): the transport may be shared by the process; nothing
above it can offer, forward or name a track outside its Room. So the plane holds
only what is process-wide by nature: aiortc's guards, where aiortc's and aioice's
log lines go, and aioice's host addresses (aioice has no per-connection
setting), the settings every room uses, one ticker that drives the camera
monitors of every room and one that closes every room's speaking window, the
background tasks, and the rooms it created so that ``close`` can close them.
Participants, gates, tracks and forwarding tables live in a ``MediaRoom``, one
per meeting; the plane holds none of them and never looks inside a room except
to tick its cameras and its speaking window.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .aiortc_seam import install_transport_guards, restrict_host_addresses
from .camera_monitor import CameraCheck
from .errors import MediaError
from .events import Observation
from .log_limits import route_library_logs
from .room import MediaRoom
from .room_scope import RoomSettings
from .speaking import WINDOW_SECONDS
from .subscriber import SubscriberOffer

__all__ = ["MediaPlane"]


class MediaPlane:
    """The process's media: transport guards, settings, one camera ticker, and its rooms."""

    def __init__(
        self,
        *,
        host_addresses: Sequence[str] | None = ("127.0.0.1",),
        camera_check: CameraCheck | None = None,
        keyframe_interval: float = 0.5,
        replay_limit: int = 300,
        connect_timeout: float = 15.0,
        loss_repair: bool = True,
        bandwidth_control: bool = True,
    ) -> None:
        """``host_addresses`` None gathers on every interface; anything else restricts
        ICE host candidates process-wide (aioice has no per-connection setting).
        ``loss_repair`` False makes the server as it was before it repaired publishers'
        losses (no NACKs, retransmissions dropped), ``bandwidth_control`` False as it was
        before it paused video a subscriber's link cannot take and told publishers what
        their viewers can take (a fixed REMB): for side-by-side benchmarks only."""
        install_transport_guards()
        route_library_logs()
        if host_addresses is not None:
            restrict_host_addresses(host_addresses)
        self._settings = RoomSettings(
            camera_check or CameraCheck(),
            keyframe_interval,
            replay_limit,
            connect_timeout,
            loss_repair,
            bandwidth_control,
        )
        self._rooms: dict[str, MediaRoom] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._speaking_ticker: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """Closing or closed: it makes no more rooms (for /healthz)."""
        return self._closed

    @property
    def room_count(self) -> int:
        """Rooms open now (for tests and /metrics)."""
        return len(self._rooms)

    def room(
        self,
        room_id: str,
        *,
        on_observation: Callable[[Observation], None],
        on_subscriber_offer: Callable[[str, SubscriberOffer], None] | None = None,
    ) -> MediaRoom:
        """A new, empty media scope for one meeting.

        ``on_observation`` and ``on_subscriber_offer`` hear about this room only.
        Raises ValueError if a room of that id is open, MediaError("closed") once the
        plane is closing.
        """
        if self._closed:
            raise MediaError("closed", "The media plane is shutting down.")
        if room_id in self._rooms:
            raise ValueError("a media room with this id is already open")
        room = MediaRoom(
            room_id,
            self._settings,
            on_observation=on_observation,
            on_subscriber_offer=on_subscriber_offer,
            spawn=self._spawn,
            watch_cameras=self._start_ticker,
            on_closed=self._forget,
        )
        self._rooms[room_id] = room
        if self._speaking_ticker is None:
            # An empty context, as the camera ticker: its lines are no meeting's.
            self._speaking_ticker = asyncio.create_task(
                self._tick_speaking(), context=contextvars.Context()
            )
        return room

    def describe(self) -> list[str]:
        """What every room's connections are doing, one line each, for an operator
        (``meetwarden serve`` logs them on SIGUSR1): their states and each stream's
        packets, which tell a subscriber the server stopped sending to from one whose
        packets do not arrive. Meeting ids shortened as everywhere in the log."""
        return [
            f"meeting {room_id[:8]}: {line}"
            for room_id, room in list(self._rooms.items())
            for line in room.describe()
        ]

    def _forget(self, room: MediaRoom) -> None:
        if self._rooms.get(room.id) is room:
            del self._rooms[room.id]

    def _start_ticker(self) -> None:
        if self._ticker is None and not self._closed:
            # Started from inside the first meeting that watches a camera: an empty
            # context, so its log lines are not taken for that meeting's.
            self._ticker = asyncio.create_task(self._tick(), context=contextvars.Context())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._settings.camera_check.report_interval)  # the interval
            for room in list(self._rooms.values()):
                room.tick_cameras()

    async def _tick_speaking(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(WINDOW_SECONDS)  # the window, not a wait on an event
            now = loop.time()
            window_ms, last = 1000.0 * (now - last), now
            for room in list(self._rooms.values()):
                room.tick_speaking(window_ms)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Close every room (their connections released), then stop the plane's tasks."""
        self._closed = True
        rooms = list(self._rooms.values())
        for room in rooms:
            room.close_nowait()
        for room in rooms:
            await room.settled()
        tasks = list(self._tasks)
        for ticker in (self._ticker, self._speaking_ticker):
            if ticker is not None:
                tasks.append(ticker)
        self._ticker = self._speaking_ticker = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
