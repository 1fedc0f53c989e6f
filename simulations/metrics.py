"""The exact metrics that claims compare, and one source's exact numbers computed once each.

Each metric is a number of one objective on one source (docs/theory.md §4-§6), with the
direction that is better and whether it depends on ``k`` or on the top-``k`` subspace. The
robust claim table, the phase maps and the witness search all read them from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lookaround.simulations.evaluate import PopulationClustering, exact_population_clustering
from lookaround.theory.analysis import Analysis, LevelAnalysis, analyze
from lookaround.theory.coverage import GenerationReport, alignment, generation_report
from lookaround.theory.coverage import prefix_weights as coverage_weights
from lookaround.theory.objectives import Objective, parse_objective
from lookaround.theory.sources import Source

__all__ = ["AMBIGUITY_TOL", "METRICS", "ExactSource", "Metric", "margin"]

AMBIGUITY_TOL = 1e-9


class ExactSource:
    """The exact numbers of one source, each objective and ``k`` computed once."""

    def __init__(self, source: Source) -> None:
        self.source = source

    @functools.cache  # noqa: B019 - one instance per source and request; freed with it
    def objective(self, name: str) -> Objective:
        return parse_objective(name, self.source.length)

    @functools.cache  # noqa: B019
    def analysis(self, name: str, k: int) -> Analysis:
        return analyze(self.source, self.objective(name), k)

    @functools.cache  # noqa: B019
    def generation(self, name: str) -> GenerationReport:
        return generation_report(self.source, self.objective(name))

    @functools.cache  # noqa: B019
    def clustering(self, name: str, k: int) -> PopulationClustering:
        return exact_population_clustering(self.source, self.objective(name), k)

    def ambiguous(self, name: str, k: int) -> bool:
        """Whether ``s_k = s_(k+1)`` (the top-``k`` subspace of ``Abar`` is not unique)."""
        values = self.analysis(name, k).context.spectrum
        return bool(values[k - 1] - values[k] <= AMBIGUITY_TOL)


@dataclass(frozen=True)
class Metric:
    """An exact number of one objective on one source, and which direction is better."""

    key: str  # short name, for --metric
    name: str  # the row label of the claim table
    kind: str  # classification / generation
    better: str  # higher / lower
    uses_k: bool
    uses_subspace: bool  # the value depends on the top-k subspace chosen
    in_table: bool  # one of the claim table's rows (docs/theory.md §6)
    read: Callable[[ExactSource, str, int], float]


def _sample(read: Callable[[LevelAnalysis], float]) -> Callable[[ExactSource, str, int], float]:
    return lambda e, name, k: float(read(e.analysis(name, k).sample))


def _context(e: ExactSource, name: str, k: int):
    return e.analysis(name, k).context


_ROWS = (
    ("support_fraction", "sample graph: support fraction", "classification", "higher",
     False, False, True, _sample(lambda s: s.connectivity.support_fraction)),
    ("effective_degree", "sample graph: effective degree", "classification", "higher",
     False, False, True, _sample(lambda s: s.effective_degree.value)),
    ("within_class_gap", "sample graph: within-class gap", "classification", "higher",
     False, False, True, _sample(lambda s: s.connectivity.within_class_gap)),
    ("phi", "context graph: phi", "classification", "lower", False, False, True,
     lambda e, n, k: _context(e, n, k).disagreement),
    ("t2p_bound", "T2' bound 2 alpha/(1 - lambda_(k+1))", "classification", "lower",
     True, False, True, lambda e, n, k: float(e.analysis(n, k).sample.bound)),
    ("probe_error", "probe error on exact h(x)", "classification", "lower", True, True,
     True, _sample(lambda s: s.averaged_probe_error)),
    ("ari", "population k-means ARI on exact h(x)", "classification", "higher", True, True,
     True, lambda e, n, k: e.clustering(n, k).ari),
    ("s_k1", "context spectrum: s_(k+1)", "classification", "lower", True, False, False,
     lambda e, n, k: float(_context(e, n, k).spectrum[k])),
    ("lambda_k1", "sample spectrum: lambda_(k+1)", "classification", "lower", True, False,
     False, lambda e, n, k: float(e.analysis(n, k).sample.spectrum[k])),
    ("t2_bound", "T2 bound 2 phi/(1 - s_(k+1)^2)", "classification", "lower", True, False,
     False, lambda e, n, k: float(_context(e, n, k).bound)),
    ("alpha", "sample graph: alpha", "classification", "lower", False, False, False,
     lambda e, n, k: e.analysis(n, k).sample.disagreement),
    ("covered", "covered prefix lengths", "generation", "higher", False, False, True,
     lambda e, n, k: float(np.sum(coverage_weights(e.objective(n)) > 0))),
    ("chi", "alignment chi", "generation", "lower", False, False, True,
     lambda e, n, k: alignment(coverage_weights(e.objective(n)))),
    ("excess", "exact excess generation loss (T3)", "generation", "lower", False, False,
     True, lambda e, n, k: e.generation(n).total_excess),
)  # fmt: skip
METRICS: dict[str, Metric] = {row[0]: Metric(*row) for row in _ROWS}


def margin(better: str, winner: float, other: float) -> float:
    """How far the paper's side is ahead: positive when it wins, ``0`` on equal values.

    Examples
    --------
    >>> margin("lower", 0.2, 0.5), margin("higher", 0.2, 0.5)
    (0.3, -0.3)
    >>> margin("lower", float("inf"), float("inf"))
    0.0
    """
    if winner == other:
        return 0.0
    return float(winner - other) if better == "higher" else float(other - winner)
