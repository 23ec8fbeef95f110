"""A browser's camera, sent in simulcast layers, reaches a viewer at another node.

Two `meetwarden serve` nodes (real PostgreSQL and redis-server) with
``--edge-after 1``. The host is the web client in real Chromium, its fake
camera at 1280x720, so Chrome sends three layers; the meeting lives on the
node the host's page ends up on (A). A viewer (SDK, aiortc) comes in through the
other node's link (B) and stays there: B serves them from the pipe A sends the
host's tracks through. What they notice: the host's camera, decoded at its full
size (the largest layer is the one piped), and the host's microphone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser
from support.browser import open_person, wait_for_screen
from support.cluster import Cluster, running_cluster
from support.counting import until
from support.layered import HD_CAMERA_AND_HANDLES, Viewer
from support.postgres import PostgresServer
from support.postgres import postgres_server as postgres_server  # the fixture, shared

from meetwarden.client_sdk import HostAPI
from meetwarden.client_sdk.media import loopback_only

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.timeout(180)]
POLICY = {"entry": {"waiting_room": {"enabled": False}}, "audio": {"mute_on_entry": False}}


@pytest.fixture
def cluster(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Cluster]:
    with running_cluster(tmp_path, postgres_server, extra_args=["--edge-after", "1"]) as running:
        yield running


async def test_a_browsers_simulcast_camera_reaches_an_edge_viewer_at_full_size(
    browser: Browser, cluster: Cluster
) -> None:
    loopback_only()
    first = cluster.nodes[0]
    created = await HostAPI.create_meeting(first.url, POLICY, api_key=first.api_key)
    host = await open_person(browser, first.url, "Alice Chen")
    await host.context.add_init_script(HD_CAMERA_AND_HANDLES)
    await host.page.goto(f"{first.url}/m/{created.meeting_id}#host={created.host_token}")
    await host.page.fill("#join-name", "Alice Chen")
    await host.page.click("#join-button")
    await wait_for_screen(host, "meeting")  # on the meeting's node: the page moved there
    page_origin = urlsplit(host.page.url)
    holder = cluster.node(f"{page_origin.scheme}://{page_origin.netloc}")
    edge = cluster.other(holder.url)

    viewer = await Viewer.connect(f"{edge.url}/m/{created.meeting_id}", name="Erin Edge")
    assert isinstance(viewer, Viewer)
    try:
        assert viewer.server == edge.url, "the viewer was sent to the meeting's node"
        await viewer.media.subscribe()
        await until(
            lambda: {s for _, s in viewer.media.received} >= {"camera", "microphone"},
            30,
            "the host's camera and microphone offered at the edge",
        )
        host_id = next(p for p, s in viewer.media.received if s == "camera")
        camera, microphone = (host_id, "camera"), (host_id, "microphone")
        viewer.watch(camera)
        full = await viewer.size_becomes(lambda w, h: (w, h) == (1280, 720))
        await until(lambda: len(viewer.sizes) > full + 30, 30, "30 more frames decoded")
        await until(lambda: viewer.wire.packets[microphone] > 50, 30, "the host's microphone")
        print(
            f"\nat the edge: {len(viewer.sizes)} camera frames decoded, sizes "
            f"{sorted({size[1:] for size in viewer.sizes})}; "
            f"{viewer.wire.packets[microphone]} microphone packets"
        )
    finally:
        await viewer.close()
        await host.context.close()
    assert not host.errors, f"uncaught errors on the host's page: {host.errors}"
    nodes = tuple(f"{scheme}{node.url.split('://', 1)[1]}" for node in cluster.nodes
                  for scheme in ("http://", "ws://"))  # fmt: skip
    assert all(url.startswith(nodes) for url in host.requests), "a request left the cluster"
