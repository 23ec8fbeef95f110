"""`meetwarden serve --workers 2`, the default on a machine of two cores: each worker's
media plane holds the policy at the wire as a single process does.

The rest of this directory runs one process. Here the server is the front process and
two workers, each with its own media plane and UDP ports; for a meeting on each
worker, an adversary's muted microphone keeps sending and an honest participant
counts what reaches it: nothing, beside a control in the same meeting where the same
counter hears the same microphone once the host lets it speak.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.adversary import Adversary
from support.enforced import Meeting, Scene, muted_on_entry_stays_unheard
from support.server import RunningServer

from meetwarden.server.placement import worker_for

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Two workers behind one port (this module's server, in place of conftest's)."""
    running = RunningServer(
        tmp_path_factory.mktemp("workers-data"), extra_args=["--workers", "2"]
    ).start()
    yield running
    running.stop()


async def _one_on_each_worker(scene: Scene) -> dict[int, Meeting]:
    held: dict[int, Meeting] = {}
    for _ in range(30):
        meeting = await scene.meeting(POLICY)
        held.setdefault(worker_for(meeting.meeting_id, 2), meeting)
        if len(held) == 2:
            return held
    raise AssertionError("thirty meetings, all on one worker: placement is not spread")


async def _asks_to_speak(eve: Adversary) -> None:
    refused = await eve.request({"type": "request_unmute"})
    assert not refused["allowed"]


async def test_no_worker_forwards_a_muted_microphone_however_its_client_sends(
    scene: Scene,
) -> None:
    for _, meeting in sorted((await _one_on_each_worker(scene)).items()):
        await muted_on_entry_stays_unheard(scene, meeting, _asks_to_speak)
