"""Measured time of exact analyses against the model of ``Estimate.seconds``.

Each row runs ``analyze(source, objective, 2)`` (both levels, one thread, as a map's or a
search's worker does) and prints the measured seconds, the modelled seconds and their ratio.
Maps and searches sum the model over their points and evaluations and are refused past
``MAX_REQUEST_SECONDS``. The model was fitted to the dense families (hmm2, positional2);
markov2's sparse chains have zero-probability sequences, which ``V^T`` counts, so they run
faster than modelled.

``--factored`` measures instead the factored context level (docs/theory.md §4.7), time on one
thread (the best of two, freed memory kept as the command line keeps it) and tracemalloc's peak, against ``Estimate.seconds`` and
``Estimate.memory_bytes``, on Markov chains (the blanket path) and HMMs with ``2 r H <= V``
(the hidden-state path).

Usage: ``python benchmarks/analysis_sizing.py [--factored]``
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

from lookaround.base.allocator import keep_freed_memory
from lookaround.base.threads import thread_budget
from lookaround.theory.analysis import analyze
from lookaround.theory.cooccurrence import DEFAULT_CHUNK
from lookaround.theory.costs import estimate
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import resolve_source

SOURCES = [
    "hmm2(V=3,T=6)", "hmm2(V=4,T=7)", "hmm2(V=5,T=7)", "hmm2(V=6,T=7)",
    "positional2(V=4,T=8)", "positional2(V=6,T=7)",
    "markov2(V=3,T=6)", "markov2(V=5,T=7)", "markov2(V=6,T=8)",
]  # fmt: skip
OBJECTIVES = ("ar", "mlm:2", "dar:2", "vmlm")


FACTORED = [
    ("markov", 3, 10, None), ("markov", 3, 12, None), ("markov", 5, 8, None),
    ("markov", 5, 9, None), ("markov", 10, 6, None), ("markov", 10, 7, None),
    ("markov", 20, 5, None), ("markov", 30, 5, None), ("markov", 50, 4, None),
    ("markov", 2, 14, None), ("markov", 2, 15, None), ("markov", 4, 8, None),
    ("hmm", 3, 12, 1), ("hmm", 10, 6, 2), ("hmm", 10, 7, 2), ("hmm", 20, 5, 3),
    ("hmm", 16, 6, 2), ("hmm", 30, 5, 2), ("hmm", 4, 9, 1), ("hmm", 6, 8, 1),
    ("hmm", 10, 6, 1),
]  # fmt: skip


def factored() -> None:
    sys.path.insert(0, "benchmarks")
    from random_sources import random_source

    from lookaround.theory.blankets import factored_path

    keep_freed_memory()  # as the command line does; the model was fitted so

    print(f"{'source':<16} {'objective':<9} {'path':<8} {'seconds':>8} {'model':>7} {'ratio':>6} "
          f"{'peak MB':>8} {'model':>7} {'ratio':>6}")  # fmt: skip
    for family, vocab, length, states in FACTORED:
        source = random_source(family, vocab, length, states=states, seed=0)
        for spec in OBJECTIVES:
            tracemalloc.start()  # the objective's pattern table counts, as in the model
            objective = parse_objective(spec, length)
            path = factored_path(source, objective)
            model = estimate(source, objective, level="context", chunk=DEFAULT_CHUNK)
            if path is None or model.seconds > 20:
                tracemalloc.stop()
                continue
            analyze(source, objective, 2, level="context")
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            measured = float("inf")
            with thread_budget(1):
                for _ in range(2):  # the best of two: the model was fitted to it
                    start = time.perf_counter()
                    analyze(source, objective, 2, level="context")
                    measured = min(measured, time.perf_counter() - start)
            name = f"{family} V={vocab} T={length}"
            print(f"{name:<16} {spec:<9} {'blanket' if path == 'blankets' else 'hidden':<8} "
                  f"{measured:8.3f} {model.seconds:7.3f} {measured / model.seconds:6.2f} "
                  f"{peak / 2**20:8.1f} {model.memory_bytes / 2**20:7.1f} "
                  f"{peak / model.memory_bytes:6.2f}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--factored", action="store_true", help="the factored context level")
    if parser.parse_args().factored:
        factored()
        return
    print(f"{'source':<22} {'objective':<9} {'measured':>9} {'model':>7} {'ratio':>6}")
    for name in SOURCES:
        source = resolve_source(name)
        for spec in OBJECTIVES:
            objective = parse_objective(spec, source.length)
            model = estimate(source, objective, level="both", chunk=DEFAULT_CHUNK)
            if model.seconds > 20:
                continue
            with thread_budget(1):
                start = time.perf_counter()
                analyze(source, objective, 2)
                measured = time.perf_counter() - start
            ratio = measured / model.seconds
            print(f"{name:<22} {spec:<9} {measured:9.2f} {model.seconds:7.2f} {ratio:6.2f}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
