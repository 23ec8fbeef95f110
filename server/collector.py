"""The cycle collector of a serving process: startup's objects left alone, passes rarer.

CPython's cycle collector (https://docs.python.org/3/library/gc.html) makes a
young-generation pass each time allocations outrun deallocations by the first
threshold (700), and now and then a full pass over every tracked object. A
server's startup leaves a few hundred thousand objects that live as long as
the process (modules, pydantic's validators, SQLAlchemy's tables, the
translations), and every full pass walks them all again; and a join allocates
enough (a meeting state, its views, its messages) that 700 comes round often.
Measured with the joins bench (docs/performance.md), a process serving 1,200
joins spent about a tenth of its CPU in the collector, full passes of about
100 ms each among them.

Once the server has started: ``gc.freeze()`` moves everything startup made to
the permanent generation, which no pass walks, and the young generation is let
grow to ``YOUNG`` objects before a pass, as Instagram did for its Django
servers ("Dismissing Python Garbage Collection at Instagram", 2017). What is
frozen is never collected, which is right for what lives as long as the
process. Cycles made after startup are still collected, only in fewer passes;
reference counting frees everything else at once, as before.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG", "settle_collector"]

YOUNG = 10_000
"""Objects the young generation may gain before a pass (CPython's default: 700). A
join's work allocates a few thousand: a pass every few joins, not several a join."""
MIDDLE, OLD = 10, 100
"""Young passes before a middle one (CPython's 10), middle passes before an old (full) one
(CPython's 10). A full pass walks every object kept since startup (the people held for a
reconnect among them): 212 to 238 ms with the event loop stopped, after ten rounds of the
joins bench, and it freed 3,800 objects where the young and middle passes freed 263,000.
At 100, a full pass comes a tenth as often; CPython still waits, besides, until the
objects promoted since the last one are a quarter of those it kept."""


def settle_collector() -> None:
    """Freezes what the process made so far and sets the thresholds; call once started."""
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    gc.freeze()
