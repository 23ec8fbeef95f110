"""The fuzzing harness: targets, their committed corpus, and a time-boxed hypothesis run.

A target is a coroutine that takes one input (bytes, or text for SDP and
policies) into one of the server's entry points and raises ``CrashError`` when
the entry point breaks its promise: an exception that would reach the event
loop or close a connection, where the promise is "drop or refuse" (or "answer").
Anything the event loop's exception handler hears during an input counts as a
crash too.

Every target has a folder ``corpus/<target>/``: seeds (``seed-*``, real
packets, descriptions, messages and policies) and every crash ever found (``crash-*``), kept as
regression inputs. ``test_corpus.py`` replays them all in the normal test run;
``bench/fuzz.py`` runs each target for N seconds on inputs hypothesis draws
from the seeds (mutated), from structure-aware generators and from nothing,
and saves the smallest input of each new crash into the corpus.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = [
    "CORPUS",
    "CrashError",
    "FuzzResult",
    "Harness",
    "Target",
    "frames",
    "fuzz",
    "joined",
    "load_corpus",
    "mutated_bytes",
    "mutated_text",
]

CORPUS = Path(__file__).parent / "corpus"
Input = TypeVar("Input", bytes, str)


class CrashError(Exception):
    """An entry point broke its promise on one input."""


class Harness(abc.ABC, Generic[Input]):
    """What one target needs around the entry point (a room, a transport ...), set up once."""

    @abc.abstractmethod
    async def run(self, data: Input) -> None:
        """Feeds one input to the entry point."""

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Target(Generic[Input]):
    name: str
    text: bool
    """Inputs are text (stored as UTF-8); otherwise bytes."""
    setup: Callable[[], Awaitable[Harness[Input]]]
    strategy: Callable[[Sequence[Input]], st.SearchStrategy[Input]]
    """Inputs to try, given the corpus (mutated seeds, generators, raw data)."""
    slow: bool = False
    """One input takes milliseconds, not microseconds: it builds and releases real peer
    connections, or a Room on a store."""
    also_reads: tuple[str, ...] = ()
    """Corpus folders of other targets whose inputs this one takes too."""


def load_corpus(target: Target[Any]) -> list[tuple[str, Any]]:
    """(name, input) of every corpus file of the target (and those it also reads)."""
    entries = []
    for name in (target.name, *target.also_reads):
        folder = CORPUS / name
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.name.startswith((".", "README")):
                continue
            data = path.read_bytes()
            text = data.decode("utf-8", "surrogateescape") if target.text else data
            entries.append((f"{name}/{path.name}", text))
    return entries


def save_crash(target: Target[Any], data: Any, key: str) -> Path:
    raw = data.encode("utf-8", "surrogateescape") if target.text else data
    digest = hashlib.sha1(raw).hexdigest()[:12]
    path = CORPUS / target.name / f"crash-{key}-{digest}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


class LoopErrors:
    """Everything the event loop's exception handler hears while installed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.heard: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: self.heard.append(context))

    def check(self) -> None:
        if self.heard:
            heard, self.heard = self.heard, []
            raise CrashError(f"the event loop heard: {heard[0].get('message')} {heard[0]!r}"[:2000])


async def run_checked(harness: Harness[Any], data: Any, errors: LoopErrors) -> None:
    """One input through the harness; CrashError on any exception or loop error."""
    try:
        await harness.run(data)
    except CrashError:
        raise
    except Exception as error:
        raise CrashError(f"{type(error).__name__}: {error}") from error
    await asyncio.sleep(0)  # callbacks the input scheduled run (and may fail) now
    errors.check()


def _crash_key(error: BaseException) -> str:
    """Where a crash comes from: the exception type and the innermost frame."""
    cause = error.__cause__ or error
    frames = traceback.extract_tb(cause.__traceback__)
    where = f"{Path(frames[-1].filename).stem}:{frames[-1].lineno}" if frames else "loop"
    return hashlib.sha1(f"{type(cause).__name__}@{where}".encode()).hexdigest()[:8]


@dataclass
class FuzzResult:
    target: str
    executions: int = 0
    seconds: float = 0.0
    crashes: list[tuple[str, str, Path]] = field(default_factory=list)
    """(key, first line of the error, file saved) of each distinct crash."""


def fuzz(target: Target[Any], seconds: float, save: bool = True) -> FuzzResult:
    """Run ``target`` on hypothesis's inputs for about ``seconds``; new crashes are saved."""
    loop = asyncio.new_event_loop()
    result = FuzzResult(target.name)
    try:
        asyncio.set_event_loop(loop)
        errors = LoopErrors(loop)
        harness = loop.run_until_complete(target.setup())
        corpus = [data for _, data in load_corpus(target)]
        strategy = target.strategy(corpus)
        failing: list[Any] = []

        def one(data: Any) -> None:
            result.executions += 1
            try:
                loop.run_until_complete(run_checked(harness, data, errors))
            except CrashError:
                failing.append(data)
                raise

        started = time.monotonic()
        deadline = started + seconds
        seen: set[str] = set()
        per_input = 0.05 if target.slow else 0.002
        while time.monotonic() < deadline:
            before, began = result.executions, time.monotonic()
            batch = max(5, min(2000, int((deadline - began) / per_input)))
            run = settings(
                max_examples=batch,
                deadline=None,
                database=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )(given(strategy)(one))
            failing.clear()
            try:
                run()
            except Exception as crash:  # CrashError, or hypothesis's report of a flaky one
                key = _crash_key(crash)
                if key not in seen and failing:
                    seen.add(key)
                    smallest = min(failing, key=len)
                    path = save_crash(target, smallest, key) if save else CORPUS
                    result.crashes.append((key, str(crash).splitlines()[0][:300], path))
            if result.executions == before:
                break
            per_input = (time.monotonic() - began) / (result.executions - before)
        result.seconds = time.monotonic() - started
        loop.run_until_complete(harness.close())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
    return result


# --------------------------------------------------------------------------- sequences


def frames(data: bytes) -> list[bytes]:
    """An input that is a sequence: each element after its 2-byte length (the rest, last)."""
    elements, at = [], 0
    while at + 2 <= len(data):
        size = int.from_bytes(data[at : at + 2], "big")
        elements.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    if at < len(data):
        elements.append(data[at:])
    return elements


def joined(elements: Sequence[bytes]) -> bytes:
    """The input of a sequence (``frames`` reads it back)."""
    return b"".join(len(element).to_bytes(2, "big") + element for element in elements)


# --------------------------------------------------------------------------- mutations

_INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x14, 0x16, 0x17, 0x40, 0xC0, 0xC8, 0xC9, 0xCD]
_INTERESTING_LENGTHS = [
    n.to_bytes(2, "big") for n in (0, 1, 2, 3, 4, 7, 8, 12, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)
]


def _mutate_bytes(seed: bytes, operations: list[tuple[int, int, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for op, position, value, chunk in operations:
        at = position % (len(data) + 1)
        if op == 0 and data:  # flip bits
            data[at % len(data)] ^= (value % 255) + 1
        elif op == 1:  # insert
            data[at:at] = chunk
        elif op == 2 and data:  # delete a run
            del data[at : at + 1 + value % 16]
        elif op == 3 and data:  # an interesting byte
            data[at % len(data)] = _INTERESTING_BYTES[value % len(_INTERESTING_BYTES)]
        elif op == 4:  # truncate
            del data[at:]
        elif op == 5 and data:  # duplicate a run
            data[at:at] = data[at : at + 1 + value % 64]
        elif op == 6 and len(data) >= at + 2:  # an interesting 16-bit length
            data[at : at + 2] = _INTERESTING_LENGTHS[value % len(_INTERESTING_LENGTHS)]
    return bytes(data)


def mutated_bytes(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with a few byte-level mutations (flips, inserts, deletes, lengths)."""
    operation = st.tuples(
        st.integers(0, 6), st.integers(0, 1 << 16), st.integers(0, 255), st.binary(max_size=8)
    )
    return st.builds(
        _mutate_bytes, st.sampled_from(list(seeds)), st.lists(operation, min_size=1, max_size=6)
    )


_TOKENS = ["-1", "0", "65536", "4294967296", "99999999999999999999", "", " ", ":", "::", "x"]
_TOKENS += ["a" * 300, "\xff", "\x00", "sha-256", "UDP/TLS/RTP/SAVPF", "0.0.0.0", "nan", "1e400"]
_LINES = [
    "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host",
    "a=candidate:1 1 udp x 127.0.0.1 1 typ host",
    "a=candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype active",
    "a=ssrc:x cname:y",
    "a=ssrc-group:FID 1",
    "a=extmap:999 urn:x",
    "a=extmap:1/sendonly urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=fingerprint:md5 00",
    "a=fingerprint:sha-256 00",
    "a=setup:bogus",
    "a=setup:passive",
    "m=video 9 UDP/TLS/RTP/SAVPF 300",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=rtpmap:97 VP8/0",
    "a=rtpmap:96 VP8",
    "a=fmtp:98 apt=abc",
    "a=rtcp-fb:96",
    "a=msid:",
    "a=group:BUNDLE 7 8",
    "a=group:BUNDLE",
    "a=mid:",
    "a=bundle-only",
    "a=sctp-port:x",
    "a=max-message-size:-1",
    "a=rtcp:9",
    "a=rtcp:x",
    "c=IN IP4 x",
    "a=ice-ufrag:",
    "a=ice-options:trickle renomination",
    "a=end-of-candidates",
]


def _mutate_text(seed: str, operations: list[tuple[int, int, int]]) -> str:
    """notes/probes/sdp_fuzz.py's mutations: delete, duplicate, garble or insert lines."""
    lines = seed.split("\r\n")
    for op, position, value in operations:
        at = position % len(lines) if lines else 0
        if op == 0 and lines:
            del lines[at]
        elif op == 1 and lines:
            parts = lines[at].split(" ")
            parts[value % len(parts)] = _TOKENS[value % len(_TOKENS)]
            lines[at] = " ".join(parts)
        elif op == 2 and lines and ":" in lines[at]:
            lines[at] = lines[at].split(":", 1)[0] + ":" + _TOKENS[value % len(_TOKENS)]
        elif op == 3:
            lines.insert(at, _LINES[value % len(_LINES)])
        elif op == 4 and lines:
            lines.insert(at, lines[value % len(lines)])
        elif op == 5 and lines:
            line = lines[at]
            lines[at] = line[: value % (len(line) + 1)]
    return "\r\n".join(lines)


def mutated_text(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    """An SDP seed with a few line-level mutations."""
    operation = st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 1 << 16))
    return st.builds(
        _mutate_text, st.sampled_from(list(seeds)), st.lists(operation, min_size=1, max_size=5)
    )
