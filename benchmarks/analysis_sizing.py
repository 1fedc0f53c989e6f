"""Measured time of exact analyses against the model of ``Estimate.seconds``.

Each row runs ``analyze(source, objective, 2)`` (both levels, one thread, as a map's or a
search's worker does) and prints the measured seconds, the modelled seconds and their ratio.
Maps and searches sum the model over their points and evaluations and are refused past
``MAX_REQUEST_SECONDS``. The model was fitted to the dense families (hmm2, positional2);
markov2's sparse chains have zero-probability sequences, which ``V^T`` counts, so they run
faster than modelled.

Usage: ``python benchmarks/analysis_sizing.py``
"""

from __future__ import annotations

import time

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


def main() -> None:
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
