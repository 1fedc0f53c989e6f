"""Each factored context path against the row path, in one process: the cost model's evidence.

``analyze(level="context")`` of each source and objective, once by the path
``blankets.factored_path`` picks (the blanket path on Markov chains, the hidden-state path on
HMMs) and once forced onto the row path, alternating, the best of two each. The cost model of
docs/theory.md §4.7 takes a factored path where it is the faster: chains with at least 512
contexts a pattern or 2^26 in all, HMMs with ``2 r H <= V`` and 512 contexts a pattern. Rows
marked ``forced`` are below those thresholds and show what taking the path there would cost.

Usage: ``python benchmarks/paths.py``
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from random_sources import random_source

import lookaround.theory.blankets as blankets
from lookaround.base.allocator import keep_freed_memory
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import Source

CASES = [
    ("markov", 3, 8, None, "vmlm"), ("markov", 2, 9, None, "vmlm"),
    ("markov", 2, 13, None, "vmlm"), ("markov", 2, 14, None, "vmlm"),
    ("markov", 2, 15, None, "vmlm"), ("markov", 2, 14, None, "plm"),
    ("markov", 3, 10, None, "vmlm"), ("markov", 3, 11, None, "vmlm"),
    ("markov", 4, 8, None, "vmlm"),
    ("markov", 3, 8, None, "mlm:2"), ("markov", 2, 12, None, "mlm:2"),
    ("markov", 3, 10, None, "mlm:2"), ("markov", 5, 8, None, "vmlm"),
    ("markov", 10, 7, None, "ar"), ("markov", 10, 7, None, "mlm:2"),
    ("markov", 10, 7, None, "vmlm"), ("markov", 30, 5, None, "vmlm"),
    ("hmm", 6, 8, 2, "ar"), ("hmm", 6, 8, 2, "mlm:2"), ("hmm", 5, 9, 2, "vmlm"),
    ("hmm", 10, 7, 2, "ar"), ("hmm", 10, 7, 2, "mlm:2"), ("hmm", 10, 6, 2, "vmlm"),
    ("hmm", 20, 5, 3, "ar"),
]  # fmt: skip


@contextmanager
def forced(path: str):
    """Make ``context_chunks`` take ``path`` ("blankets", "hidden" or "rows")."""
    saved = blankets.blankets_pay, blankets.hidden_pays
    blankets.blankets_pay = lambda *_: path == "blankets"
    blankets.hidden_pays = lambda *_: path == "hidden"
    try:
        yield
    finally:
        blankets.blankets_pay, blankets.hidden_pays = saved


def best(source: Source, spec: str, path: str) -> float:
    times = []
    for _ in range(2):
        with forced(path):
            start = time.perf_counter()
            analyze(source, spec, 2, level="context")
            times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    keep_freed_memory()
    print(f"{'source':<22} {'objective':<7} {'contexts/pattern':>16} {'path':>8} "
          f"{'factored':>9} {'rows':>8} {'rows/factored':>14}")  # fmt: skip
    for family, vocab, length, states, spec in CASES:
        source = random_source(family, vocab, length, states=states, seed=0)
        objective = parse_objective(spec, length)
        contexts = objective.context_count(vocab)
        path = "blankets" if family == "markov" else "hidden"
        taken = blankets.factored_path(source, objective) is not None
        factored, rows = best(source, spec, path), best(source, spec, "rows")
        name = f"{family} V={vocab} T={length}" + (f" H={states}" if states else "")
        mark = "" if taken else " (forced)"
        print(f"{name:<22} {spec:<7} {contexts / len(objective.patterns):16.0f} "
              f"{path:>8} {factored:8.3f}s {rows:7.3f}s {rows / factored:13.2f}x{mark}",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
