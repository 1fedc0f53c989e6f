"""The chain path (theory/chains.py) against the general recurrence, side by side.

``analyze(level="context")`` on the ladder's markov rungs, run alternately with the chain path
switched off (every block from the stacked recurrence) and on, in one process; medians of
``--repeat`` runs. The numbers agree to rounding (tests/test_chains.py); only time differs.

Usage: ``python benchmarks/chains.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import statistics
import time

from random_sources import random_source

import lookaround.theory.cooccurrence as cooccurrence
from lookaround.theory.analysis import analyze
from lookaround.theory.chains import chain_pays
from lookaround.theory.objectives import parse_objective

RUNGS = [(10, 6, "ar"), (10, 7, "ar"), (10, 7, "mlm:2"), (10, 8, "ar"), (2, 13, "vmlm")]


def _timed(vocab: int, length: int, spec: str, chain: bool) -> float:
    source = random_source("markov", vocab, length, seed=0)
    objective = parse_objective(spec, length)
    # the switch the benchmark flips: iter_blocks asks this function which path to take
    cooccurrence.chain_pays = chain_pays if chain else (lambda source, sets: False)
    start = time.perf_counter()
    analyze(source, objective, min(3, vocab), level="context")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"analyze(level=context), markov r=2, medians of {args.repeat} alternating runs")
    for vocab, length, spec in RUNGS:
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):
            for chain in (False, True):
                runs[chain].append(_timed(vocab, length, spec, chain))
        before, after = (statistics.median(runs[c]) for c in (False, True))
        print(f"{vocab:>3} {length:>3} {spec:<6} recurrence only {before:7.3f}s   "
              f"with the chain path {after:7.3f}s   {before / after:5.2f}x")  # fmt: skip
    cooccurrence.chain_pays = chain_pays


if __name__ == "__main__":
    main()
