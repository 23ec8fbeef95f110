"""Fuzz the server's entry points for N seconds each; report executions and crashes.

    python bench/fuzz.py                       # every target, 60 s each
    python bench/fuzz.py --seconds 10 stun rtp # some targets
    python bench/fuzz.py --write-seeds         # (re)write the seed corpus

The targets take what a client or a host can send: SDP, STUN, datagrams, RTP,
RTCP and VP8 to the media plane, text frames to a participant's socket
(``client_message``) and policy documents (``policy``). Targets and their
promises are in tests/fuzz/ (harness.py says how a run works; docs/fuzzing.md
has the last figures). Each new crash is shrunk by hypothesis and saved as
tests/fuzz/corpus/<target>/crash-<where>-<digest>: commit it with the fix, and
``pytest tests/fuzz`` replays it from then on. Exit status 1 if a crash was found.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.harness import fuzz, load_corpus
from fuzz.targets import TARGETS

from meetwarden.server.media.aiortc_seam import restrict_host_addresses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], default=[])
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--write-seeds", action="store_true", help="write the seed corpus")
    parser.add_argument("--no-save", action="store_true", help="do not add crashes to the corpus")
    args = parser.parse_args()
    restrict_host_addresses(["127.0.0.1"])
    logging.basicConfig(level=logging.ERROR)  # the guards' rate-limited warnings stay quiet
    warnings.simplefilter("ignore", ResourceWarning)
    if args.write_seeds:
        from fuzz.seeds import write_seeds

        asyncio.run(write_seeds())
        print("seed corpus written to tests/fuzz/corpus/")
        return 0
    names = args.targets or list(TARGETS)
    print(f"{'target':<18} {'corpus':>6} {'executions':>10} {'seconds':>8} {'per s':>8}  crashes")
    found = 0
    for name in names:
        target = TARGETS[name]
        result = fuzz(target, args.seconds, save=not args.no_save)
        rate = result.executions / result.seconds if result.seconds else 0.0
        print(
            f"{name:<18} {len(load_corpus(target)):>6} {result.executions:>10} "
            f"{result.seconds:>8.1f} {rate:>8.0f}  {len(result.crashes)}",
            flush=True,
        )
        for key, message, path in result.crashes:
            found += 1
            print(f"    crash {key}: {message}\n      saved as {path}", flush=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
