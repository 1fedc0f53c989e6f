"""The one claim model: what a claim compares, how a comparison is decided, and the exact
numbers it reads, each in one place.

A :class:`Metric` is a number of one objective on one source (docs/theory.md §4-§6), with the
direction that is better and whether it depends on ``k`` or on the top-``k`` subspace. A
:class:`Comparison` is a claim's pair of objectives and the metrics it is judged on.
:func:`decide` holds the tie and ambiguity rules, with the tolerances of this module. The
claim table (one setting and every setting), the phase maps, the witness search, the
certificates, ``check --pretrain`` and the CLI's choices all read them from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from lookaround.base.errors import InputError
from lookaround.theory.numerics import AMBIGUITY_TOL, subspace_unique
from lookaround.theory.objective_kinds import mask_count
from lookaround.theory.objectives import Objective, parse_objective
from lookaround.theory.sources import Source

if TYPE_CHECKING:
    from lookaround.simulations.evaluate import PopulationClustering
    from lookaround.theory.analysis import Analysis, SampleLevel
    from lookaround.theory.coverage import GenerationReport

# The command line's parser reads METRICS (its choices and help), so what computes a metric
# (the exact passes, scikit-learn's k-means) is imported on first use, not with this module.

__all__ = [
    "AMBIGUITY_TOL",
    "CERTIFIABLE_METRICS",
    "CLAIM_KINDS",
    "COMPARISONS",
    "EXACT_TOL",
    "METRICS",
    "ONE_SETTING",
    "Better",
    "Comparison",
    "ExactSource",
    "Metric",
    "Verdict",
    "check_claim_metric",
    "decide",
    "default_objectives",
    "margin",
    "point_seconds",
    "unsettled",
]

# The tolerance of every exact comparison: two exact values within EXACT_TOL tie. The top-k
# subspace is ambiguous where s_k - s_(k+1) <= AMBIGUITY_TOL (theory.numerics, its one home).
EXACT_TOL = 1e-9


class Better(StrEnum):
    """Which direction of a metric is better."""

    LOWER = "lower"
    HIGHER = "higher"


class Verdict(StrEnum):
    """What a comparison says of the paper's side (a ``str``: JSON and tables keep the words)."""

    HOLDS = "holds"
    FAILS = "fails"
    TIE = "tie"
    AMBIGUOUS = "ambiguous"
    DIVERGED = "diverged"  # a trained row whose training left the finite numbers: no comparison


def decide(
    winner: float, other: float, *, better: str, tol: float, ambiguous: bool = False
) -> Verdict:
    """The verdict on the paper's side ``winner`` against ``other``: the one tie rule.

    Equal values tie (``inf`` against ``inf`` included), so do finite values within ``tol``;
    an ``ambiguous`` setting (the top-``k`` subspace not unique) is never compared.

    Parameters
    ----------
    winner, other : float
        The paper's side and the other side.
    better : str
        ``"lower"`` or ``"higher"``.
    tol : float
        Finite values within it tie.
    ambiguous : bool
        Whether the setting's top-``k`` subspace is not unique.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> decide(1.0, float("inf"), better="lower", tol=1e-9)
    <Verdict.HOLDS: 'holds'>
    >>> decide(0.50, 0.51, better="higher", tol=0.02), decide(0.2, 0.1, better="lower", tol=0)
    (<Verdict.TIE: 'tie'>, <Verdict.FAILS: 'fails'>)
    """
    if ambiguous:
        return Verdict.AMBIGUOUS
    if winner == other or (
        np.isfinite(winner) and np.isfinite(other) and abs(winner - other) <= tol
    ):
        return Verdict.TIE
    return Verdict.HOLDS if (winner > other) == (better == Better.HIGHER) else Verdict.FAILS


class ExactSource:
    """The exact numbers of one source, each objective and ``k`` computed once.

    Parameters
    ----------
    source : Source
        The source; each exact number of it is computed once, on first use.
    """

    def __init__(self, source: Source) -> None:
        self.source = source

    @functools.cache  # noqa: B019 - one instance per source and request; freed with it
    def objective(self, name: str) -> Objective:
        return parse_objective(name, self.source.length)

    @functools.cache  # noqa: B019
    def analysis(self, name: str, k: int) -> Analysis:
        from lookaround.theory.analysis import analyze

        return analyze(self.source, self.objective(name), k)

    @functools.cache  # noqa: B019
    def generation(self, name: str) -> GenerationReport:
        from lookaround.theory.coverage import generation_report

        return generation_report(self.source, self.objective(name))

    @functools.cache  # noqa: B019
    def clustering(self, name: str, k: int) -> PopulationClustering:
        from lookaround.simulations.evaluate import exact_population_clustering

        return exact_population_clustering(self.source, self.objective(name), k)

    def prefix_weights(self, name: str) -> np.ndarray:
        """The weights ``w_l`` of the objective's prefix lengths (docs/theory.md §7)."""
        from lookaround.theory.coverage import prefix_weights

        return prefix_weights(self.objective(name))

    def ambiguous(self, name: str, k: int) -> bool:
        """Whether ``s_k = s_(k+1)`` (the top-``k`` subspace of ``Abar`` is not unique)."""
        return not subspace_unique(self.analysis(name, k).level("context").singular_values, k)


@dataclass(frozen=True, kw_only=True)
class Metric:
    """An exact number of one objective on one source, and which direction is better.

    ``label`` is its row of the claim table; ``in_table`` says whether the robust table shows
    it (docs/theory.md §6); ``uses_subspace``: its value depends on the top-``k`` subspace
    chosen, so it is ambiguous where that subspace is not unique.

    Attributes
    ----------
    key : str
        Its key (``--metric``, JSON).
    label : str
        Its row of the claim table.
    kind : str
        ``"classification"`` or ``"generation"``.
    better : Better
        Which direction is better.
    read : callable
        ``read(exact, objective, k) -> float``: its exact value.
    uses_k : bool
        Whether it depends on ``k``.
    uses_subspace : bool
        Whether it reads the top-``k`` subspace (ambiguous where that is not unique).
    in_table : bool
        Whether the robust claim table shows it.
    rounding : callable, optional
        ``rounding(exact, objective, k) -> float``: the mass whose decisions rounding could not
        settle (probe errors).
    analyses : int
        Exact analyses it reads per objective and ``k`` (for sizing).
    certifiable : bool
        Whether a rational certificate decides it (``search``, ``verify``).
    column : str or None
        Its column in a sweep row (docs/json.md), or None where a sweep does not record it.
    """

    key: str
    label: str
    kind: str  # "classification" or "generation"
    better: Better
    read: Callable[[ExactSource, str, int], float]
    uses_k: bool = False
    uses_subspace: bool = False
    in_table: bool = True
    rounding: Callable[[ExactSource, str, int], float] | None = None
    analyses: int = 1  # exact analyses read per objective and k (k-means adds two)
    certifiable: bool = False
    column: str | None = None


def unsettled(exact: ExactSource, metric: Metric, *, winner: str, other: str, k: int) -> str:
    """Why the exact comparison of ``winner`` and ``other`` at ``k`` cannot be decided, or ``""``.

    A value read off the top-``k`` subspace is undefined where that subspace is not unique on
    either side; a probe error is settled only where the two sides differ by more than the
    mass whose decisions rounding could not settle (``rounding_mass``, docs/theory.md §4.6).

    Parameters
    ----------
    exact : ExactSource
        The exact numbers of the source.
    metric : Metric
        The metric compared.
    winner, other : str
        The two objectives.
    k : int
        The feature dimension.

    Returns
    -------
    str
        Why not, or ``""`` when the comparison is settled.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> exact = ExactSource(preset_source("markov"))
    >>> unsettled(exact, METRICS["averaged_probe_error"], winner="mlm:2", other="ar", k=2)
    ''
    """
    if not metric.uses_subspace:
        return ""
    if exact.ambiguous(winner, k) or exact.ambiguous(other, k):
        return "s_k = s_(k+1): subspace not unique"
    if metric.rounding is None:
        return ""
    gap = abs(metric.read(exact, winner, k) - metric.read(exact, other, k))
    mass = metric.rounding(exact, winner, k) + metric.rounding(exact, other, k)
    if mass == 0 or gap > mass:
        return ""
    return f"within rounding: the sides differ by {gap:.3g}, rounding decides {mass:.3g}"


def _sample(read: Callable[[SampleLevel], float]) -> Callable[[ExactSource, str, int], float]:
    def value(e: ExactSource, name: str, k: int) -> float:
        return float(read(e.analysis(name, k).level("sample")))

    return value


def _context(e: ExactSource, name: str, k: int):
    return e.analysis(name, k).level("context")


def _alignment(weights: np.ndarray) -> float:
    from lookaround.theory.coverage import alignment

    return alignment(weights)


_C, _G, _LOW, _HIGH = "classification", "generation", Better.LOWER, Better.HIGHER
METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric(key="support_fraction", label="sample graph: support fraction", kind=_C, better=_HIGH,
            column="support_fraction", read=_sample(lambda s: s.connectivity.support_fraction)),
    Metric(key="effective_degree", label="sample graph: effective degree", kind=_C, better=_HIGH,
            column="effective_degree", read=_sample(lambda s: s.effective_degree.value)),
    Metric(key="within_class_gap", label="sample graph: within-class gap", kind=_C, better=_HIGH,
            column="within_class_gap", read=_sample(lambda s: s.connectivity.within_class_gap)),
    Metric(key="phi", label="context graph: phi", kind=_C, better=_LOW, certifiable=True,
            column="phi", read=lambda e, n, k: _context(e, n, k).phi),
    Metric(key="t2p_bound", label="T2' bound 2 alpha/(1 - lambda_(k+1))", kind=_C, better=_LOW, uses_k=True,
            column="sample_bound", read=_sample(lambda s: float(s.bound))),
    Metric(key="averaged_probe_error", label="probe error on exact h(x)", kind=_C, better=_LOW, uses_k=True, uses_subspace=True,
            column="averaged_probe_error", read=_sample(lambda s: s.averaged_probe_error),
            rounding=_sample(lambda s: s.averaged_rounding_mass)),
    Metric(key="ari", label="population k-means ARI on exact h(x)", kind=_C, better=_HIGH, uses_k=True,
            uses_subspace=True, read=lambda e, n, k: e.clustering(n, k).ari, analyses=3),
    Metric(key="s_k1", label="context spectrum: s_(k+1)", kind=_C, better=_LOW, uses_k=True, in_table=False,
            certifiable=True, column="s_k1", read=lambda e, n, k: float(_context(e, n, k).singular_values[k])),
    Metric(key="lambda_k1", label="sample spectrum: lambda_(k+1)", kind=_C, better=_LOW, uses_k=True, in_table=False,
            certifiable=True, column="lambda_k1", read=_sample(lambda s: float(s.eigenvalues[s.k]))),
    Metric(key="t2_bound", label="T2 bound 2 phi/(1 - s_(k+1)^2)", kind=_C, better=_LOW, uses_k=True, in_table=False,
            certifiable=True, column="context_bound", read=lambda e, n, k: float(_context(e, n, k).bound)),
    Metric(key="alpha", label="sample graph: alpha", kind=_C, better=_LOW, in_table=False,
            certifiable=True, column="alpha", read=_sample(lambda s: s.alpha)),
    Metric(key="context_probe_error", label="probe error on f(c): T2's left side", kind=_C, better=_LOW,
            uses_k=True, uses_subspace=True, in_table=False, column="context_probe_error",
            read=lambda e, n, k: _context(e, n, k).probe_error,
            rounding=lambda e, n, k: _context(e, n, k).rounding_mass),
    Metric(key="sample_probe_error", label="probe error on samples: the left side of T2'", kind=_C, better=_LOW,
            uses_k=True, uses_subspace=True, in_table=False, column="sample_probe_error",
            read=_sample(lambda s: s.probe_error), rounding=_sample(lambda s: s.rounding_mass)),
    Metric(key="covered", label="covered prefix lengths", kind=_G, better=_HIGH,
            read=lambda e, n, k: float(np.sum(e.prefix_weights(n) > 0)), analyses=0),
    Metric(key="chi", label="alignment chi", kind=_G, better=_LOW, certifiable=True, column="chi",
            read=lambda e, n, k: _alignment(e.prefix_weights(n)), analyses=0),
    # T3's prefix table: 0.1 s at V^T = 1.7e6, sized by memory (check_generation)
    Metric(key="excess", label="exact excess generation loss (T3)", kind=_G, better=_LOW,
            column="generation_excess", read=lambda e, n, k: e.generation(n).total_excess, analyses=0),
)}  # fmt: skip
"""Every metric, in the claim table's order; a sweep row has one column per metric with a
``column``, in this order too."""
CERTIFIABLE_METRICS = tuple(m.key for m in METRICS.values() if m.certifiable)
"""The metrics a rational certificate decides (:func:`lookaround.theory.certificates.certify`)."""


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A claim's pair of objectives, the parameter that ranges over its domain, its metrics.

    ``winner`` and ``other`` are templates: ``{p}`` is the parameter (``m`` of ``mlm:m`` from
    ``first``, or ``J`` of ``dar:J`` from 2), up to ``T - 1``.

    Attributes
    ----------
    claim : str
        ``C1`` to ``C4``.
    winner, other : str
        Objective templates; ``{p}`` is the parameter.
    param : str
        The parameter's name (``m`` or ``J``; empty when there is none).
    first : int
        Its first admissible value.
    kind : str
        ``"classification"`` or ``"generation"``: the metrics it is judged on.
    """

    claim: str
    winner: str
    other: str
    param: str
    first: int
    kind: str  # the kind of metric the claim is judged on

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The claim table's metrics of this comparison's kind."""
        return tuple(m for m in METRICS.values() if m.kind == self.kind and m.in_table)

    def pairs(self, length: int) -> list[tuple[int | None, str, str]]:
        """``(value, winner, other)`` for every admissible parameter value at ``T = length``."""
        return [
            (v, self.winner.format(p=v), self.other.format(p=v)) for v in range(self.first, length)
        ]

    def at_one_setting(self, length: int | None = None) -> tuple[str, str]:
        """``(winner, other)`` at :data:`ONE_SETTING`; at ``T = length`` the mask ratio is
        written as its count (``mlm:2`` rather than ``mlm:0.4`` at ``T = 5``).

        Examples
        --------
        >>> COMPARISONS[0].at_one_setting(), COMPARISONS[0].at_one_setting(5)
        (('mlm:0.4', 'ar'), ('mlm:2', 'ar'))
        """
        value = ONE_SETTING[self.param]
        if length is not None and self.param == "m":
            value = str(mask_count(value, length))
        return self.winner.format(p=value), self.other.format(p=value)


COMPARISONS = (
    Comparison(claim="C2", winner="mlm:{p}", other="ar", param="m", first=1, kind=_C),
    Comparison(claim="C3", winner="ar", other="mlm:{p}", param="m", first=1, kind=_G),
    Comparison(claim="C4", winner="dar:{p}", other="ar", param="J", first=2, kind=_C),
    Comparison(claim="C4", winner="vmlm", other="mlm:{p}", param="m", first=1, kind=_G),
)
# The one setting of the trained rows, of maps and searches by default, of check --pretrain:
# m = round(0.4 T) masked tokens (mlm:0.4), J = 2 steps of look-ahead.
ONE_SETTING = {"m": "0.4", "J": "2"}
CLAIM_KINDS = {"C2": _C, "C3": _G, "C4": None}  # None: C4 has a pair of each kind


def check_claim_metric(claim: str, metric: str) -> Metric:
    """The one rule for a claim and a metric: both known, and the metric of the claim's kind.

    Parameters
    ----------
    claim : str
        ``C1`` to ``C4``.
    metric : str
        A key of :data:`METRICS`.

    Returns
    -------
    Metric

    Examples
    --------
    >>> check_claim_metric("C2", "s_k1").key
    's_k1'
    >>> check_claim_metric("C3", "s_k1")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: metric s_k1 is a classification metric; C3 compares generation
    """
    if claim not in CLAIM_KINDS:
        raise InputError(
            f"claim must be one of {', '.join(CLAIM_KINDS)}, got {claim!r}", field="claim"
        )
    if metric not in METRICS:
        raise InputError(
            f"metric must be one of {', '.join(METRICS)}, got {metric!r}", field="metric"
        )
    chosen, kind = METRICS[metric], CLAIM_KINDS[claim]
    if kind is not None and chosen.kind != kind:
        raise InputError(
            f"metric {metric} is a {chosen.kind} metric; {claim} compares {kind}", field="metric"
        )
    return chosen


def default_objectives(claim: str, metric: Metric) -> tuple[str, str]:
    """The paper's side and the other side of ``claim`` on ``metric``, at the one setting.

    Parameters
    ----------
    claim : str
        ``C1`` to ``C4``.
    metric : Metric
        The metric the claim is judged on.

    Returns
    -------
    tuple of str
        The paper's side and the other.

    Examples
    --------
    >>> default_objectives("C4", METRICS["chi"])
    ('vmlm', 'mlm:0.4')
    """
    (comparison,) = [c for c in COMPARISONS if c.claim == claim and c.kind == metric.kind]
    return comparison.at_one_setting()


def margin(better: str, winner: float, other: float) -> float:
    """How far the paper's side is ahead: positive when it wins, ``0`` on equal values.

    Parameters
    ----------
    better : str
        ``"lower"`` or ``"higher"``.
    winner, other : float
        The two sides' values.

    Returns
    -------
    float

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


def point_seconds(
    source: Source, names: tuple[str, ...], *, metric: Metric, k: int | None
) -> float:
    """Modelled seconds of reading ``metric`` for each objective of ``names`` (one thread):
    ``metric.analyses`` exact analyses of each at each ``k`` read (every ``k = 1..V`` for
    ``k=None``, a map's ``--k all``); sized by :func:`~lookaround.theory.limits.check_request`,
    so a source past the exact limits is refused here.

    Parameters
    ----------
    source : Source
        The source.
    names : tuple of str
        The objectives read.
    metric : Metric
        The metric.
    k : int or None
        The feature dimension; None for every ``k = 1..V``.

    Returns
    -------
    float
        Modelled seconds on one thread.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> one = point_seconds(preset_source("markov"), ("mlm:2", "ar"), metric=METRICS["phi"], k=2)
    >>> every = point_seconds(preset_source("markov"), ("mlm:2", "ar"), metric=METRICS["ari"], k=None)
    >>> 0 < one < 1, round(every / one)  # k-means triples it, and V = 3 values of k
    (True, 9)
    """
    ks = 1 if k is not None or not metric.uses_k else source.vocab
    return metric.analyses * ks * sum(_analysis_seconds(source, name) for name in names)


_SECONDS: dict[tuple, float] = {}  # the time model depends on the source's shape alone


def _analysis_seconds(source: Source, name: str) -> float:
    shape = (source.vocab, source.length, source.n_classes, source.n_states, source.emits_state)
    if (shape, name) not in _SECONDS:
        objective = parse_objective(name, source.length)
        from lookaround.theory.cooccurrence import DEFAULT_CHUNK
        from lookaround.theory.limits import check_request

        try:  # a point past the exact limits would fail only when its turn came
            sized = check_request(source, objective, "both", chunk=DEFAULT_CHUNK)
        except InputError as exc:
            # the refusal without its advice ("; ..."), which names another route than a map
            raise InputError(f"under {name}: {str(exc).split('; ')[0]}") from None
        _SECONDS[shape, name] = sized.seconds
    return _SECONDS[shape, name]
