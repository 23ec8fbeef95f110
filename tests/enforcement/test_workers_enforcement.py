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
from support.adversary import camera, decisions, microphone
from support.enforced import Meeting, Scene, admit_adversary, honest, window
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


async def test_no_worker_forwards_a_muted_microphone_however_its_client_sends(
    scene: Scene,
) -> None:
    for worker, meeting in sorted((await _one_on_each_worker(scene)).items()):
        carol = await honest(meeting, "Carol Jones")
        await carol.media.subscribe()
        eve = scene.adversary(meeting.meeting_id)
        joined = await admit_adversary(meeting, eve)
        assert joined["you"]["muted"]
        reply = await eve.publish({"microphone": microphone(), "camera": camera()})
        assert sorted(decisions(reply)) == [
            ("camera", True, "published"),
            ("microphone", True, "published_muted"),
        ]
        await carol.wire.flows(eve.participant_id, "camera")
        refused = await eve.request({"type": "request_unmute"})
        assert not refused["allowed"], f"worker {worker}"
        measured = await window(carol, eve)
        assert measured.sent["microphone"] > 20, "the adversary's microphone kept sending"
        assert measured.received[(eve.participant_id, "camera")] > 0, f"worker {worker}"
        assert measured.received[(eve.participant_id, "microphone")] == 0, f"worker {worker}"
        # Control: once the host lets Eve speak, the same counter hears the same microphone.
        assert eve.participant_id is not None
        await meeting.host.ask_to_unmute(eve.participant_id)
        assert (await eve.request({"type": "request_unmute"}))["allowed"]
        await carol.wire.flows(eve.participant_id, "microphone")
