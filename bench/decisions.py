"""Decisions per second for a realistic meeting, beside a baseline from the same run.

The mix is a 50-person board meeting (the board example, room for 60):
everyone joins and is admitted, then raised hands, unmute requests, host
mutes, chat, track publishes, share grants, and camera-frame observations
(the most frequent event, from the media plane). Each event is decided and
its effects applied, timers included, exactly as the runtime does.

The baseline does the same work plus validating the policy document once per
event: the cost the engine must never pay on its hot path, since a policy is
validated once and then shared, frozen, by every decision.

    python bench/decisions.py [--events 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from meetwarden.policies.events import EVENT_ADAPTER, Event
from meetwarden.policies.loading import load_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.simulation import Simulation

POLICY = Path(__file__).parents[1] / "policies" / "examples" / "board_meeting.json"
FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski", "Haddad", "Lund"]


def script(count: int, seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    people = [f"p{i}" for i in range(49)]
    raw: list[dict[str, Any]] = [
        {"type": "join_requested", "participant": "host", "name": "Meeting Chair", "role": "host"}
    ]
    for index, person in enumerate(people):
        name = f"{FIRST[index % len(FIRST)]} {LAST[index % len(LAST)]}"
        raw.append(
            {"type": "join_requested", "participant": person, "name": name, "password_ok": True}
        )
    raw.append({"type": "admit_all", "actor": "host"})
    for person in people:
        raw.append({"type": "publish_requested", "participant": person, "source": "microphone"})
        raw.append({"type": "publish_requested", "participant": person, "source": "camera"})
        raw.append({"type": "camera_frames", "participant": person, "fps": 30.0})
    kinds = (
        ["camera_frames"] * 40
        + ["hand_raised"] * 6
        + ["unmute_requested"] * 8
        + ["ask_to_unmute"] * 4
        + ["mute"] * 4
        + ["chat"] * 20
        + ["grant", "revoke", "share"] * 2
        + ["self_muted"] * 4
    )
    at = 1.0
    while len(raw) < count:
        at += rng.choice([0.01, 0.05, 0.2])
        kind = rng.choice(kinds)
        who = rng.choice(people)
        if kind == "camera_frames":
            raw.append({"type": kind, "participant": who, "fps": rng.choice([24.0, 30.0])})
        elif kind in ("ask_to_unmute", "mute"):
            raw.append({"type": kind, "actor": "host", "participant": who})
        elif kind in ("grant", "revoke"):
            raw.append({"type": kind, "actor": "host", "participant": who, "kind": "screen"})
        elif kind == "share":
            raw.append(
                {
                    "type": "publish_requested",
                    "participant": who,
                    "source": "screen",
                    "surface": "window",
                }
            )
        else:
            raw.append({"type": kind, "participant": who})
        raw[-1]["at"] = at
    return [EVENT_ADAPTER.validate_json(json.dumps(event)) for event in raw[:count]]


def run(policy: Policy, events: list[Event], revalidate: bytes | None) -> float:
    """Seconds to decide and apply every event (revalidating the policy each time if asked)."""
    sim = Simulation.start(policy)
    started = time.perf_counter()
    for event in events:
        if revalidate is not None:
            load_policy(revalidate)
        sim.step(event)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    board = json.loads(POLICY.read_bytes())
    board["entry"]["max_participants"] = 60  # room for all 50
    document = json.dumps(board).encode()
    policy = load_policy(document)
    events = script(args.events)
    engine, baseline = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine
        engine.append(run(policy, events, None))
        baseline.append(run(policy, events, document))
    engine_rate = len(events) / statistics.median(engine)
    baseline_rate = len(events) / statistics.median(baseline)
    print(f"events per run: {len(events)}, repeats: {args.repeats} (medians)")
    print(f"engine (decide + apply, timers):        {engine_rate:10,.0f} decisions/s")
    print(f"baseline (+ validate policy per event): {baseline_rate:10,.0f} decisions/s")
    print(f"ratio engine / baseline: {engine_rate / baseline_rate:.2f}x")
    print(f"per decision: {1e6 / engine_rate:.1f} us (baseline {1e6 / baseline_rate:.1f} us)")


if __name__ == "__main__":
    main()
