"""The full-name check per join, beside the same check without its ASCII shortcut.

Every join's name goes through ``check_full_name`` (the default policy: two
words, look-alikes of the hosts refused, blocked words). Most names are ASCII;
for them words are found by a regular expression and no character is looked up
as CJK (``policies/names.py``). The baseline is the same check in the same run
with the per-character walk for every name (``_words_of_any_script``, and a
CJK lookup of every character), as before the shortcut. Names are distinct, as
a crowd's are, so the check's caches of folded texts do not hide the work.
Non-ASCII names (Chinese, accented Latin) are timed too: they take the walk
either way.

    python bench/name_check.py [--names 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from meetwarden.policies import names
from meetwarden.policies.model import Policy

FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski", "Haddad", "Lund"]
HOSTS = ("Alice Morgan", "Bob Chair")


def ascii_names(count: int, salt: str) -> list[str]:
    """Distinct two-word names: a first name, a last name and a letter pair of the index."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        f"{FIRST[i % 10]}{letters[(i // 10) % 26]} {LAST[i % 8]}{letters[(i // 260) % 26]}{salt}"
        for i in range(count)
    ]


def other_names(count: int, offset: int) -> list[str]:
    """Distinct Chinese names of two characters and accented Latin ones."""
    return [
        f"{'张王李赵刘'[i % 5]}{chr(0x4E00 + (i + offset) % 20000)}"
        if i % 2
        else f"José Müll{'abcdefghij'[(i + offset) % 10]}{(i + offset) // 10:x}"
        for i in range(count)
    ]


@contextmanager
def walked() -> Iterator[None]:
    """Every name takes the per-character walk, as before the shortcut."""
    words, before = names._words, names._BEFORE_CJK
    names._words = names._words_of_any_script  # type: ignore[assignment]
    names._BEFORE_CJK = "\0"
    try:
        yield
    finally:
        names._words, names._BEFORE_CJK = words, before  # type: ignore[assignment]


def per_name_us(check: Callable[[str], object], batch: list[str]) -> float:
    started = time.perf_counter()
    for name in batch:
        check(name)
    return (time.perf_counter() - started) / len(batch) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rules = Policy.model_validate({}).entry.full_name

    def check(name: str) -> object:
        return names.check_full_name(name, rules, HOSTS)

    kinds = ("ascii", "ascii walked", "other", "other walked")
    rows: dict[str, list[float]] = {kind: [] for kind in kinds}
    for repeat in range(args.repeats):
        salt = "abcdefghijklmnopqrstuvwxyz"[repeat % 26] * (1 + repeat // 26)
        plain = ascii_names(args.names, salt)
        # Alternate which goes first, so that a change in the machine reaches both alike.
        order = [False, True] if repeat % 2 else [True, False]
        for walk in order:
            suffix = " walked" if walk else ""
            batch_salt = salt + ("w" if walk else "s")
            batch = [name + batch_salt for name in plain]  # fresh names: no cache hit
            foreign = other_names(args.names, (2 * repeat + walk) * args.names)
            if walk:
                with walked():
                    rows["ascii" + suffix].append(per_name_us(check, batch))
                    rows["other" + suffix].append(per_name_us(check, foreign))
            else:
                rows["ascii" + suffix].append(per_name_us(check, batch))
                rows["other" + suffix].append(per_name_us(check, foreign))
    print(f"$ python bench/name_check.py --names {args.names} --repeats {args.repeats}")
    print(f"{'names':<8} {'shortcut us':>12} {'walk us':>10} {'ratio':>7}")
    for kind in ("ascii", "other"):
        fast = statistics.median(rows[kind])
        slow = statistics.median(rows[kind + " walked"])
        print(f"{kind:<8} {fast:>12.1f} {slow:>10.1f} {fast / slow:>7.2f}")


if __name__ == "__main__":
    main()
