"""Simulcast from real Chromium: each viewer gets the layer its tile needs, and gates hold.

The host is the web client in Chromium, its fake camera at 1280x720 (so that
Chrome sends all three layers, q/h/f at a quarter, half and full size); the
viewers are SDK participants (aiortc) that decode what they get. One says it
shows the host's camera at 320x180, the other at 1280x720: each decodes the
matching layer's resolution. Then they swap sizes mid-stream: each switches
layer (one up, one down) with no gap in the sequence numbers it receives and
no decode error. Last, the host's page (modified: it keeps its camera sending)
tells the server it stopped its camera: the gate closes and neither viewer
gets a packet of any layer, measured beside the microphone that goes on
flowing, while the browser's statistics show it still sending every layer.
Finally the web client's own tile-size report: the host's page tells the
server the size it shows a viewer's camera at, in device pixels.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from playwright.async_api import Browser, expect
from support.browser import NO_WAITING_ROOM, create_meeting, host_joins, open_person
from support.counting import settle, until
from support.frame_log import DecodeErrors
from support.layered import HD_CAMERA_AND_HANDLES, SENT_PER_LAYER, Viewer
from support.server import RunningServer

from meetwarden.client_sdk.media import loopback_only
from meetwarden.client_sdk.synthetic import SyntheticVideoTrack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

# The last tile_size the page sent for a participant's camera equals its video's size.
REPORTED_AS_SHOWN = """(id) => {
  const said = window.sentMessages.filter(
    (m) => m.type === 'tile_size' && m.participant === id && m.source === 'camera').at(-1);
  const video = document.querySelector(
    `#grid video[data-participant-id="${id}"][data-source="camera"]`);
  if (!said || !video) return false;
  const box = video.getBoundingClientRect();
  const ratio = window.devicePixelRatio;
  return said.width === Math.round(box.width * ratio)
    && said.height === Math.round(box.height * ratio);
}"""
STOP_CAMERA = """() => window.sockets.filter((s) => s.readyState === 1).at(-1).send(
  JSON.stringify({ type: 'stop_publish', id: 900001, source: 'camera' }))"""


def _gap_free(numbers: list[int]) -> bool:
    """Every sequence number from the first to the last arrived (RFC 3550 wrap-around)."""
    unwrapped, base, last = [], 0, numbers[0]
    for number in numbers:
        if number < last and last - number > 0x8000:
            base += 0x10000
        elif number > last and number - last > 0x8000:
            base -= 0x10000
        unwrapped.append(base + number)
        last = number
    return set(unwrapped) == set(range(min(unwrapped), max(unwrapped) + 1))


async def test_each_viewer_gets_its_layer_switches_cleanly_and_a_closed_gate_stops_all(
    browser: Browser, server: RunningServer
) -> None:
    loopback_only()
    host = await open_person(browser, server.url, "Alice Chen")
    await host.context.add_init_script(HD_CAMERA_AND_HANDLES)
    meeting = await create_meeting(host, {**NO_WAITING_ROOM, "audio": {"mute_on_entry": False}})
    await host_joins(host, meeting)
    small = await Viewer.connect(meeting.join_url, name="Sam Small")
    large = await Viewer.connect(meeting.join_url, name="Lee Large")
    viewers = (small, large)
    assert isinstance(small, Viewer)
    assert isinstance(large, Viewer)
    small.label, large.label = "the small tile's viewer", "the large tile's viewer"
    for viewer in viewers:
        await viewer.media.subscribe()
    await until(
        lambda: all(any(s == "camera" for _, s in v.media.received) for v in viewers),
        30,
        "the host's camera offered to both viewers",
    )
    host_id = next(p for p, s in small.media.received if s == "camera")
    camera, microphone = (host_id, "camera"), (host_id, "microphone")
    logs = [(viewer.log, viewer.decoder_thread(camera)) for viewer in viewers]
    errors = DecodeErrors(lambda: [(v.log, v.decoder_thread(camera)) for v in viewers])
    logging.getLogger("aiortc.rtcrtpreceiver").setLevel(logging.WARNING)
    with errors:
        for viewer in viewers:
            viewer.watch(camera)
        await small.media.tile_size(host_id, "camera", 320, 180)
        await large.media.tile_size(host_id, "camera", 1280, 720)
        at_small = await small.size_becomes(lambda w, h: w <= 320)
        at_large = await large.size_becomes(lambda w, h: w >= 1280)
        small_size, large_size = small.sizes[at_small][1:], large.sizes[at_large][1:]
        assert small_size == (320, 180), small_size
        assert large_size == (1280, 720), large_size
        # Mid-stream, the viewers swap sizes: one layer up, the other down.
        steady = time.monotonic()
        await small.media.tile_size(host_id, "camera", 1280, 720)
        await large.media.tile_size(host_id, "camera", 320, 180)
        up = await small.size_becomes(lambda w, h: w >= 1280)
        down = await large.size_becomes(lambda w, h: w <= 320)
        await until(lambda: len(small.sizes) > up + 15 and len(large.sizes) > down + 15, 30)
        switched = time.monotonic()
    for viewer in viewers:
        numbers = viewer.wire.sequences[camera]
        assert _gap_free(numbers), f"{viewer.label}: a gap in the camera's sequence numbers"
        recent = [t for t in viewer.log.errors if steady <= t <= switched]
        assert recent == [], f"{viewer.label}: decode errors at the switch"
    print(
        f"\nlayers decoded: small tile {small_size}, large tile {large_size}; after the swap "
        f"{small.sizes[up][1:]} and {large.sizes[down][1:]}; decode errors "
        f"{[len(log.errors) for log, _ in logs]}"
    )

    # Off and on again with the web client's button: the camera comes back in layers,
    # and each viewer gets the layer its tile (said once, before) needs.
    button = host.page.locator("#camera-button")
    old = {id(viewer.media.received[camera]) for viewer in viewers}
    await button.click()
    await expect(button).to_have_text("Turn camera on")
    await button.click()
    await expect(button).to_have_text("Turn camera off")
    await until(
        lambda: all(id(v.media.received.get(camera)) not in old for v in viewers),
        30,
        "the camera offered again",
    )
    for viewer in viewers:
        if viewer.reader is not None:
            viewer.reader.cancel()
        viewer.watch(camera)
    again = (
        await small.size_becomes(lambda w, h: w >= 1280),
        await large.size_becomes(lambda w, h: w <= 320),
    )
    print(
        f"after the camera was turned off and on: {small.sizes[again[0]][1:]} and "
        f"{large.sizes[again[1]][1:]}"
    )

    # The gate: the control shows both sources flowing to both viewers ...
    before = [viewer.wire.snapshot() for viewer in viewers]
    await asyncio.sleep(1.5)  # the window is the measurement
    for viewer, snapshot in zip(viewers, before, strict=True):
        flowed = viewer.wire.since(snapshot)
        assert flowed[camera] > 0, viewer.label
        assert flowed[microphone] > 0, viewer.label
    # ... then the host's page says it stopped its camera, and keeps sending every layer.
    await host.page.evaluate(STOP_CAMERA)
    await settle()
    sent_before = await host.page.evaluate(SENT_PER_LAYER)
    before = [viewer.wire.snapshot() for viewer in viewers]
    await asyncio.sleep(2.0)  # the window is the measurement
    sent_after = await host.page.evaluate(SENT_PER_LAYER)
    assert sorted(sent_before) == ["f", "h", "q"]
    assert all(sent_after[rid] > sent_before[rid] for rid in sent_before), "still sending"
    for viewer, snapshot in zip(viewers, before, strict=True):
        measured = viewer.wire.since(snapshot)
        assert measured[camera] == 0, f"{viewer.label} got {measured[camera]} camera packets"
        assert measured[microphone] > 0, f"{viewer.label}: the microphone stopped too"

    # The web client says the size it shows each forwarded video at: the host's page
    # reports the tile of a camera the SDK viewer publishes (in device pixels).
    await large.media.publish(camera=SyntheticVideoTrack(320, 240, fps=10))
    assert large.participant_id is not None
    # The last size it sent for that tile is the size the tile has (debounced, so: soon).
    await host.page.wait_for_function(REPORTED_AS_SHOWN, arg=large.participant_id, timeout=30_000)
    for viewer in viewers:
        if viewer.reader is not None:
            viewer.reader.cancel()
        await viewer.close()
    await host.close()
