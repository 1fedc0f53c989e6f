"""Coverage of an estimating mode's intervals against the exact values, shared by its tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lookaround.theory.analysis import analyze
from lookaround.theory.intervals import ContextEstimates
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

SOURCES = ("topic", "hmm", "markov")
SEEDS, K, SPEC = 40, 2, "mlm:2"


def shared_coverage(shared: Callable, name: str, *args: Any, **kwargs: Any) -> dict:
    """:func:`coverage` computed once for every test worker (the ``shared`` fixture)."""

    def compute() -> dict:
        counts = coverage(*args, **kwargs).items()
        return {"rows": [[*key, int(covered), int(printed)] for key, (covered, printed) in counts]}

    rows = shared(name, compute)
    return {(source, key): (covered, printed) for source, key, covered, printed in rows["rows"]}


def coverage(
    estimate: Callable[..., ContextEstimates], level: str = "context", spec: str = SPEC
) -> dict:
    """``{(source, name): (covered, printed)}`` of the 95% intervals over ``SEEDS`` seeds.

    ``estimate(source, objective, k, seed)`` gives the mode's :class:`ContextEstimates` of
    ``level``, whose numbers are named as that level names them. A 1e-12 slack absorbs the
    exact analysis's own rounding (its ``s_1`` is ``1 - 2e-16``).
    """
    counts: dict = {}
    for name in SOURCES:
        source = preset_source(name)
        objective = parse_objective(spec, source.length)
        exact = getattr(analyze(source, objective, K, level=level), level)
        spectrum = "s" if level == "context" else "lambda"
        values = getattr(exact, exact.spectrum_name)
        truth = {f"{spectrum}_{i + 1}": float(values[i]) for i in range(K + 1)}
        truth[exact.disagreement_name] = getattr(exact, exact.disagreement_name)
        truth.update(probe_error=exact.probe_error, bound=exact.bound)
        for seed in range(SEEDS):
            for key, interval in estimate(source, objective, K, seed).named(level):
                covered, printed = counts.get((name, key), (0, 0))
                if interval.low is not None and interval.high is not None:
                    printed += 1
                    covered += interval.low - 1e-12 <= truth[key] <= interval.high + 1e-12
                counts[name, key] = (covered, printed)
    return counts
