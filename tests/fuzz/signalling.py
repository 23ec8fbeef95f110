"""Fuzz targets for what a client sends in signalling: publisher offers, subscriber answers.

``sdp_offer`` and ``subscriber_answer`` are the server's own checks
(``negotiation.read_offer``, ``check_answer``) with aiortc's
``SessionDescription.parse`` behind them: the promise is a MediaError or a
checked description, nothing else. ``publish`` and ``answer`` go further, into
aiortc's ``setRemoteDescription`` through a real MediaRoom: a MediaError or an
answer, nothing heard by the event loop, and every socket released. So that no
fuzzed candidate sends a packet off this machine, aioice takes remote
candidates on 127.0.0.1 only while these targets run.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import aioice.ice
from hypothesis import strategies as st

from meetwarden.server.media import MediaError, MediaPlane
from meetwarden.server.media.aiortc_seam import open_sockets
from meetwarden.server.media.negotiation import check_answer, read_offer

from .harness import CrashError, Harness, Target, mutated_text

__all__ = ["ANSWER", "PUBLISH", "SDP_OFFER", "SUBSCRIBER_ANSWER"]

SOURCES: dict[str, Any] = {"0": "microphone", "1": "camera", "2": "screen", "3": "screen_audio"}


def _sdp_strategy(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(list(seeds)),
        mutated_text(seeds),
        mutated_text(seeds).map(lambda text: text.replace("\r\n", "\n")),
        st.text(max_size=400),
    )


class _Offers(Harness[str]):
    async def run(self, data: str) -> None:
        with contextlib.suppress(MediaError):
            read_offer(data, SOURCES, None)


class _Answers(Harness[str]):
    async def run(self, data: str) -> None:
        with contextlib.suppress(MediaError):
            check_answer(data)


async def _offers() -> Harness[str]:
    return _Offers()


async def _answers() -> Harness[str]:
    return _Answers()


_original_add_remote_candidate = aioice.ice.Connection.add_remote_candidate


async def _loopback_candidates_only(self: aioice.ice.Connection, candidate: Any) -> None:
    if candidate is None or candidate.host == "127.0.0.1":
        await _original_add_remote_candidate(self, candidate)


class _Room(Harness[str]):
    """A real plane and room; each input is one admitted participant's request."""

    def __init__(self) -> None:
        aioice.ice.Connection.add_remote_candidate = _loopback_candidates_only  # type: ignore[method-assign]
        self.plane = MediaPlane()
        self.room = self.plane.room("fuzz", on_observation=lambda observation: None)
        self.count = 0

    @abstractmethod
    async def request(self, participant_id: str, data: str) -> None:
        """One request of an admitted participant, made of the input."""

    async def run(self, data: str) -> None:
        self.count += 1
        participant_id = f"p{self.count}"
        self.room.admit(participant_id)
        try:
            await self.request(participant_id, data)
        except MediaError:
            pass
        finally:
            participant = self.room._participants[participant_id]
            connections = [c.pc for c in (participant.publisher, participant.subscriber) if c]
            self.room.close_participant(participant_id)
            await self.room.settled()
        left_open = sum(open_sockets(pc) for pc in connections)
        if left_open:
            raise CrashError(f"{left_open} sockets left open after the participant left")

    async def close(self) -> None:
        await self.room.close()
        await self.plane.close()
        aioice.ice.Connection.add_remote_candidate = _original_add_remote_candidate  # type: ignore[method-assign]


class _Publish(_Room):
    async def request(self, participant_id: str, data: str) -> None:
        await self.room.publish(participant_id, data, SOURCES)


class _Answer(_Room):
    async def request(self, participant_id: str, data: str) -> None:
        await self.room.subscribe(participant_id)
        await self.room.subscriber_answer(participant_id, data)


async def _publish() -> Harness[str]:
    return _Publish()


async def _answer() -> Harness[str]:
    return _Answer()


SDP_OFFER = Target("sdp_offer", True, _offers, _sdp_strategy)
SUBSCRIBER_ANSWER = Target("subscriber_answer", True, _answers, _sdp_strategy)
PUBLISH = Target("publish", True, _publish, _sdp_strategy, slow=True, also_reads=("sdp_offer",))
ANSWER = Target(
    "answer", True, _answer, _sdp_strategy, slow=True, also_reads=("subscriber_answer",)
)
