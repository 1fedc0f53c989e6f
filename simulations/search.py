"""Witness search: a source on which a claim fails (or holds) by the widest margin, certified.

Random restarts plus a local optimizer (scipy's Nelder-Mead or Powell) over unconstrained
parameters: logistic transforms of a family's knobs, or softmax logits of a class-conditional
Markov chain of a given shape. The best source is then shrunk (the smallest ``V`` and ``T``
that keep the verdict), its probabilities rounded to short decimals while the sign survives,
and the sign proved in exact arithmetic (:mod:`lookaround.theory.certificates`). The same
search pointed at a theorem (T2, T2') maximizes ``probe_error / bound``, which a proved bound
keeps at most 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize

from lookaround.base.checks import check_count, check_positive
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import SeedLike, as_seed, streams
from lookaround.simulations.metrics import (
    CERTIFIABLE_METRICS,
    EXACT_TOL,
    METRICS,
    ExactSource,
    Metric,
    check_claim_metric,
    default_objectives,
    margin,
    point_seconds,
)
from lookaround.simulations.rates import count_estimator_rate
from lookaround.simulations.spaces import DENOMINATORS, SearchSpace, above_floors, round_spec
from lookaround.theory.analysis import analyze
from lookaround.theory.certificates import Certificate, certify
from lookaround.theory.limits import check_seconds
from lookaround.theory.marginals import bayes_labels, sequence_joint
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict
from lookaround.theory.theorems import Theorem

__all__ = [
    "SearchRecord",
    "Stress",
    "Witness",
    "search_witness",
    "stress_theorem",
]

MAX_EVALUATIONS = 10**6  # exact margins one search may spend


def _margin(spec: dict, metric: str, k: int, objectives: tuple[str, str]) -> float:
    """The float margin of the paper's side on ``spec`` (nan where it cannot be evaluated)."""
    try:
        exact = ExactSource(source_from_dict(spec))
        chosen = METRICS[metric]
        a, b = (chosen.read(exact, name, k) for name in objectives)
    except (InputError, ValueError):
        return float("nan")
    return margin(chosen.better, a, b)


def _informative(spec: dict) -> bool:
    """Whether the classes can be told apart: the sequences' Bayes labels take two values.

    A source whose classes share one law has no class structure, and a claim about
    classification says nothing there; shrinking must not end on one.
    """
    source = source_from_dict(spec)
    joint = sequence_joint(source).reshape(source.n_classes, -1)
    return bool(np.unique(bayes_labels(joint.T[joint.sum(axis=0) > 0])).size > 1)


@dataclass(frozen=True, kw_only=True)
class Witness(Presented):
    """A certified source on which the claim fails (or holds), and how it was found.

    Attributes
    ----------
    claim, metric : str
    k : int
    objectives : tuple of str
        The paper's side and the other.
    wanted : str
        ``fails`` or ``holds``.
    search : SearchRecord
    source : dict
        The rational source spec.
    certificate : Certificate
    """

    __repr__ = short_repr

    claim: str
    metric: str
    k: int
    objectives: tuple[str, str]
    wanted: str  # fails / holds
    search: SearchRecord
    source: dict
    certificate: Certificate

    def record(self) -> dict:
        """The JSON form written by ``lookaround search`` (docs/json.md, "Witnesses")."""
        return {
            "kind": "witness", "claim": self.claim, "metric": self.metric, "k": self.k,
            "objectives": list(self.objectives), "wanted": self.wanted,
            "search": asdict(self.search), "source": self.source,
            "certificate": self.certificate.record(),
        }  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class SearchRecord:
    """How a witness was found: the space and seed, the budget spent, the optimizer's margin
    before shrinking and rounding, the sizes shrunk to and the rounding kept.

    Attributes
    ----------
    space : str
        The space searched.
    seed, restarts, evaluations : int
        The seed and the budget spent.
    seconds : float
        Wall time (reported, never a budget).
    found_margin : float
        The optimizer's margin before rounding.
    shrunk : dict
        Knobs the shrinker moved.
    denominator : int
        The rational grid the source was rounded to.
    """

    space: str
    seed: int
    restarts: int
    evaluations: int
    seconds: float
    found_margin: float
    shrunk: dict
    denominator: int


@dataclass(frozen=True)
class _Optimum:
    """The best point of a search and what reaching it took."""

    u: np.ndarray
    restarts: int
    evaluations: int


class _OutOfTime(Exception):
    """Raised inside an objective evaluation once the budget is spent."""


def _optimize(
    space: SearchSpace, score: Callable[[np.ndarray], float], seed: int, *, evaluations: int,
    seconds: float | None = None,
) -> _Optimum:  # fmt: skip
    """Restarts of a local optimizer for ``evaluations`` evaluations of ``score``.

    The budget is counted in evaluations, so a seed gives the same point on any machine;
    ``seconds`` is an optional cap on top (a run it stops is no longer reproducible). The best
    point of every evaluation is kept, so a run stopped inside a restart loses nothing.
    """
    check_count(evaluations, "evaluations", low=1, high=MAX_EVALUATIONS)
    if seconds is not None:
        check_positive(seconds, "seconds")
    rng = np.random.default_rng(streams(seed).restarts)
    # Nelder-Mead for a few knobs; Powell's line searches scale better to dozens of logits.
    method, tolerances = (
        ("Nelder-Mead", {"xatol": 1e-3, "fatol": 1e-7})
        if space.dimension <= 6
        else ("Powell", {"xtol": 1e-3, "ftol": 1e-7})
    )
    deadline = time.monotonic() + (np.inf if seconds is None else seconds)
    best = {"u": None, "value": np.inf, "evaluations": 0}

    def spent() -> bool:
        return best["evaluations"] >= evaluations or time.monotonic() > deadline

    def tracked(u: np.ndarray) -> float:
        if best["u"] is not None and spent():
            raise _OutOfTime
        value = score(u)
        best["evaluations"] += 1
        if value < best["value"]:
            best["u"], best["value"] = np.array(u, dtype=float), value
        return value

    restarts = 0
    while restarts < 200 and (best["u"] is None or not spent()):
        start = rng.normal(0.0, 1.5, space.dimension)
        options = {"maxfev": 60 * max(space.dimension, 2), **tolerances}
        restarts += 1
        try:
            minimize(tracked, start, method=method, options=options)
        except _OutOfTime:
            break
    if best["u"] is None:
        raise InputError("the search ran no evaluation")
    return _Optimum(best["u"], restarts, int(best["evaluations"]))


def _shrink(space: SearchSpace, u: np.ndarray, keeps: Callable[[dict], bool]) -> tuple[dict, dict]:
    """The smallest ``V`` then ``T`` (same real knobs) whose source keeps the verdict."""
    current = {name: size for name, (size, _) in space.shrinkable.items()}
    for name in ("V", "T"):
        if name not in space.shrinkable:
            continue
        for size in range(space.shrinkable[name][1], current[name]):
            try:
                candidate = space.spec(u, {**current, name: size})
            except InputError:
                continue
            if keeps(candidate):
                current[name] = size
                break
    return space.spec(u, current), current


def search_witness(
    claim: str,
    metric: str,
    space: SearchSpace,
    *,
    k: int = 1,
    objectives: tuple[str, str] | None = None,
    seed: SeedLike = 0,
    evaluations: int = 1000,
    seconds: float | None = None,
    wanted: str = "fails",
) -> Witness:
    """Search, shrink, round and certify a source on which ``claim`` is ``wanted`` on ``metric``.

    The budget is ``evaluations`` exact margins (``seconds``, optional, caps the time too).
    Raises an InputError when no source of the space gives the wanted verdict within the
    budget (the best margin found is in the message), or when none of its shrunk and rounded
    forms is a witness (each cause counted in the message).

    Parameters
    ----------
    claim, metric : str
        The claim and its metric.
    space : SearchSpace
        Where to search.
    k : int
        The feature dimension.
    objectives : tuple of str, optional
        The paper's side and the other (default per claim).
    seed : int, SeedSequence or Generator
        Every random choice derives from it.
    evaluations : int
        The budget, in exact evaluations.
    seconds : float, optional
        A time cap besides (the evaluations decide the bits).
    wanted : str
        ``"fails"`` or ``"holds"``.

    Returns
    -------
    Witness
    """
    if metric not in CERTIFIABLE_METRICS:
        raise InputError(
            f"metric must be certifiable ({', '.join(CERTIFIABLE_METRICS)}), got {metric!r}",
            field="metric",
        )
    seed = as_seed(seed)
    chosen = check_claim_metric(claim, metric)  # the rule map applies too
    goal = _Goal(claim, metric, k, objectives or default_objectives(claim, chosen), wanted)
    _check_size(space, goal.pair, chosen, k, evaluations, seconds)
    started = time.monotonic()

    def score(u: np.ndarray) -> float:
        value = goal.margin(space.spec(u))
        if value != value:
            return 1e3  # nan: a point outside the family
        # an infinite margin (chi of an uncovered length) is clipped: the simplex only needs
        # the order, and inf - inf inside it would be nan
        return -goal.sign * float(np.clip(value, -1e6, 1e6))

    found = _optimize(space, score, seed, evaluations=evaluations, seconds=seconds)
    value = goal.margin(space.spec(found.u))  # unclipped: -inf is said as -inf
    if not goal.sign * value > EXACT_TOL:
        raise InputError(
            f"no source of {space.name} where {claim} {wanted} on {metric} within "
            f"{found.evaluations} evaluations (best margin {value:.3g})"
        )
    certified = _certified(space, found, goal)
    search = SearchRecord(space=space.name, seed=seed, restarts=found.restarts,
                          evaluations=found.evaluations, seconds=time.monotonic() - started,
                          found_margin=value, shrunk=certified.shrunk,
                          denominator=certified.denominator)  # fmt: skip
    return Witness(claim=claim, metric=metric, k=k, objectives=goal.pair, wanted=wanted,
                   search=search, source=certified.source,
                   certificate=certified.certificate)  # fmt: skip


@dataclass(frozen=True)
class _Goal:
    """What a witness search wants: ``claim`` to be ``wanted`` on ``metric`` at ``k``."""

    claim: str
    metric: str
    k: int
    pair: tuple[str, str]
    wanted: str

    @property
    def sign(self) -> float:
        return -1.0 if self.wanted == "fails" else 1.0

    def margin(self, spec: dict) -> float:
        return _margin(spec, self.metric, self.k, self.pair)

    def fault(self, spec: dict, floors: tuple[float, float]) -> str | None:
        """Why ``spec`` is no witness, or None when it is one (before its certificate)."""
        value = self.margin(spec)
        if not (value == value and self.sign * value > EXACT_TOL):
            return "its margin lost the sign"
        if not _informative(spec):
            return "its classes could no longer be told apart (one Bayes class)"
        return None if above_floors(spec, floors) else "a probability fell below the floor"


@dataclass(frozen=True)
class _Certified:
    """A rounded source proved to give the wanted verdict, and how it was reached."""

    source: dict
    shrunk: dict
    denominator: int
    certificate: Certificate


def _certified(space: SearchSpace, found: _Optimum, goal: _Goal) -> _Certified:
    """The shrunk source first, then the one found, each rounded coarsest first, until one is
    proved; else an InputError counting why each failed."""
    keeps = lambda spec: goal.fault(spec, space.floors) is None  # noqa: E731
    shrunk, sizes = _shrink(space, found.u, keeps)
    full = {name: size for name, (size, _) in space.shrinkable.items()}
    faults: dict[str, int] = {}
    for spec, shape in ((shrunk, sizes), (space.spec(found.u), full)):
        for denominator in DENOMINATORS:
            rounded = round_spec(spec, denominator)
            why = goal.fault(rounded, space.floors)
            if why is None:
                certificate = _certificate(rounded, goal.pair, goal.metric, goal.k)
                if certificate.verdict == goal.wanted:
                    return _Certified(rounded, shape, denominator, certificate)
                why = f"its certificate proved {certificate.verdict}"
            faults[why] = faults.get(why, 0) + 1
    causes = "; ".join(f"{why} ({n} of {sum(faults.values())})" for why, n in faults.items())
    raise InputError(
        f"the source found for {goal.claim} on {goal.metric} gave no witness at any rounding "
        f"to steps of 1/{DENOMINATORS[0]} to 1/{DENOMINATORS[-1]}: {causes}"
    )


def _certificate(spec: dict, pair: tuple[str, str], metric: str, k: int) -> Certificate:
    """The exact-arithmetic verdict of ``pair`` on ``metric`` at ``k`` on the source ``spec``."""
    source = source_from_dict(spec)
    winner, other = (parse_objective(n, source.length) for n in pair)
    return certify(source, winner, other, metric=metric, k=k, better=METRICS[metric].better)


@dataclass(frozen=True)
class Stress(Presented):
    """The tightest instance found: ``numerator / denominator`` at its largest, that is
    ``probe_error / bound`` for T2 and T2' (at most 1 by the theorems) and
    ``excess / predicted`` for T3' (a rate: 1 is its limit, not a bound).

    Attributes
    ----------
    theorem : Theorem
    objective : str
    k : int
    ratio, numerator, denominator : float
        The tightest ``numerator / denominator`` found.
    source : dict
        Its source spec.
    restarts, evaluations : int
        The budget spent.
    """

    __repr__ = short_repr

    theorem: Theorem
    objective: str
    k: int
    ratio: float
    numerator: float
    denominator: float
    source: dict
    restarts: int
    evaluations: int

    def record(self) -> dict:
        """The JSON form written by ``lookaround search --theorem``."""
        top, bottom = self.theorem.parts
        return {"kind": "stress", "theorem": str(self.theorem), "objective": self.objective,
                "k": self.k, "ratio": self.ratio, top: self.numerator, bottom: self.denominator,
                "source": self.source, "restarts": self.restarts,
                "evaluations": self.evaluations}  # fmt: skip


T3_DRAWS = 20_000  # training draws of the T3' stress: its excess is compared at this N


def stress_theorem(
    theorem: Theorem | str,
    space: SearchSpace,
    objective: str,
    *,
    k: int,
    seed: int,
    evaluations: int,
    seconds: float | None = None,
) -> Stress:
    """The tightest instance found of T2 or T2' (``probe_error / bound``, at most 1 by the
    theorems), or of T3' (the largest ``excess / predicted`` at ``N = T3_DRAWS`` draws over
    covered lengths: T3' is a rate, so 1 is its limit, not a bound).

    Parameters
    ----------
    theorem : Theorem or str
        ``T2``, ``T2'`` or ``T3'``.
    space : SearchSpace
        Where to search.
    objective : str
        The objective.
    k : int
        The feature dimension.
    seed : int
        Every random choice derives from it.
    evaluations : int
        The budget.
    seconds : float, optional
        A time cap besides.

    Returns
    -------
    Stress
    """
    theorem = _theorem(theorem)
    if theorem is not Theorem.T3_PRIME:  # T3' draws T3_DRAWS sequences a step, sized by them
        _check_size(space, (objective,), METRICS["phi"], k, evaluations, seconds)
    score = _stress_score(theorem, objective, k)
    found = _optimize(space, lambda v: -score(space.spec(v))[0], seed,
                      evaluations=evaluations, seconds=seconds)  # fmt: skip
    spec = space.spec(found.u)
    value, error, bound = score(spec)
    return Stress(theorem, objective, k, value, error, bound, spec, found.restarts,
                  found.evaluations)  # fmt: skip


def _check_size(
    space: SearchSpace,
    names: tuple[str, ...],
    metric: Metric,
    k: int,
    evaluations: int,
    seconds: float | None,
) -> None:
    """Refuse a search whose ``evaluations`` exact analyses (at the space's size, which its
    integer knobs fix) are modelled past the request limit, unless ``seconds`` caps it."""
    source = source_from_dict(space.spec(np.zeros(space.dimension)))
    total = evaluations * point_seconds(source, names, metric=metric, k=k)
    check_seconds(total if seconds is None else min(total, seconds),
                  f"the search: {evaluations:,} evaluations on {space.name} of",
                  "use fewer --evaluations, or cap the time with --budget")  # fmt: skip


def _theorem(name: Theorem | str) -> Theorem:
    try:
        return Theorem(name)
    except ValueError:
        raise InputError(
            f"theorem must be one of {', '.join(Theorem)}, got {name!r}", field="theorem"
        ) from None


def _stress_score(theorem: Theorem, objective: str, k: int) -> Callable[[dict], tuple]:
    """``spec -> (ratio, numerator, denominator)`` for the theorem stressed."""
    if theorem is Theorem.T3_PRIME:

        def rate(spec: dict) -> tuple[float, float, float]:
            source = source_from_dict(spec)
            result = count_estimator_rate(source, parse_objective(objective, source.length),
                                          T3_DRAWS)  # fmt: skip
            covered = np.isfinite(result.predicted) & (result.predicted > 0)
            if not covered.any():
                return 0.0, 0.0, 0.0
            ratios = result.excess[covered] / result.predicted[covered]
            at = int(np.argmax(ratios))
            return (
                float(ratios[at]),
                float(result.excess[covered][at]),
                float(result.predicted[covered][at]),
            )

        return rate
    level = "context" if theorem is Theorem.T2 else "sample"

    def ratio(spec: dict) -> tuple[float, float, float]:
        source = source_from_dict(spec)
        analysis = analyze(source, parse_objective(objective, source.length), k, level=level)
        result = analysis.level(level)
        if not result.subspace_unique:
            # lambda_k = lambda_(k+1): the probe error, and so the ratio, is undefined here
            return 0.0, float(result.probe_error), float(result.bound)
        bound = float(result.bound)
        return (result.probe_error / bound if bound > 0 else 0.0), result.probe_error, bound

    return ratio
