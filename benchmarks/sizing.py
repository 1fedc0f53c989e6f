"""Request sizing against measurement: the modelled time of a Monte Carlo run
(``mc_seconds``, the model `--mc` is refused by) beside its measured time, on a table of
requests from ``V = 3`` to ``30`` and ``T = 8`` to ``4096``. Memory estimates are tested
(``tests/test_sizing.py``): a traced peak is the same on every machine, a time is not.

The model was fitted on this project's 2-core reference machine; the ratio column says how
far this machine is from it. Usage: ``python benchmarks/sizing.py``
"""

from __future__ import annotations

import time

from random_sources import random_source

from lookaround.theory.montecarlo import mc_seconds, monte_carlo
from lookaround.theory.objectives import parse_objective

# (vocabulary, length, level, draws)
REQUESTS = [
    (3, 8, "context", 20_000), (3, 64, "context", 8_192), (3, 512, "context", 4_096),
    (3, 4096, "context", 4_096), (3, 8, "sample", 8_192), (3, 64, "sample", 1_024),
    (30, 8, "context", 8_192), (30, 64, "context", 4_096), (30, 8, "sample", 2_048),
    (30, 64, "sample", 256),
]  # fmt: skip


def main() -> None:
    print("monte_carlo(ar, k=1) on random markov sources (r = 2): modelled vs measured seconds")
    print(
        f"{'V':>3} {'T':>5} {'level':>8} {'draws':>7} {'model s':>8} {'measured s':>10} {'ratio':>6}"
    )
    worst = 1.0
    for vocab, length, level, draws in REQUESTS:
        source = random_source("markov", vocab, length, seed=0)
        laws = 1 if level == "context" else len(parse_objective("ar", length).patterns) + 1
        model = mc_seconds(source, draws, laws)
        start = time.perf_counter()
        monte_carlo(source, "ar", 1, draws, levels=(level,))
        measured = time.perf_counter() - start
        ratio = measured / model
        worst = max(worst, ratio, 1 / ratio)
        print(
            f"{vocab:>3} {length:>5} {level:>8} {draws:>7} {model:>8.2f} {measured:>10.2f} {ratio:>6.2f}"
        )
    print(f"worst ratio either way: {worst:.2f}x (the model is meant to stay within 1.5x)")


if __name__ == "__main__":
    main()
