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
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, softmax

from lookaround.base.checks import check_count, check_positive
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import SeedLike, as_seed, streams
from lookaround.simulations.metrics import (
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
from lookaround.theory.analysis import analyze
from lookaround.theory.certificates import CERTIFIABLE, Certificate, certify
from lookaround.theory.families import FAMILIES, parse_family_call
from lookaround.theory.limits import check_seconds
from lookaround.theory.marginals import bayes_labels, sequence_joint
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict
from lookaround.theory.theorems import Theorem

__all__ = [
    "DENOMINATORS",
    "PROBABILITIES",
    "SearchRecord",
    "SearchSpace",
    "Stress",
    "Witness",
    "family_space",
    "probabilities_of",
    "round_spec",
    "search_witness",
    "shape_space",
    "space_of",
    "stress_theorem",
]

DENOMINATORS = (4, 10, 20, 100, 1000, 10_000)  # short decimals, tried in this order
INSET = 0.01  # a family's knobs are searched on the inner 98% of their ranges
MAX_SHAPE = (4, 4, 8)  # r, V, T: the exact analysis of every step stays well under a second
MAX_EVALUATIONS = 10**6  # exact margins one search may spend
# A shape search keeps away from the limits where a claim degenerates (a class of prior ~0, a
# deterministic token): every class prior at least PRIOR_FLOOR, every other probability at
# least PROB_FLOOR, unless asked otherwise (--allow-degenerate). Both are multiples of 1/100,
# so the rounding keeps them.
PRIOR_FLOOR = 0.1
PROB_FLOOR = 0.01
PROBABILITIES = ("prior", "init", "trans", "emit")  # the spec's fields that are laws


class SpecOf(Protocol):
    """The source spec of coordinates ``u``, at the given sizes of the shrinkable knobs."""

    def __call__(self, u: np.ndarray, sizes: dict | None = None) -> dict: ...


@dataclass(frozen=True)
class SearchSpace:
    """Unconstrained coordinates ``u`` and the source spec they stand for."""

    name: str
    dimension: int
    spec: SpecOf
    shrinkable: dict = field(default_factory=dict)  # integer knobs that can shrink, and floor
    floors: tuple[float, float] = (0.0, 0.0)  # least class prior, least other probability


def family_space(text: str) -> SearchSpace:
    """A family's real knobs through logistic maps onto the inner 98% of their ranges
    (integer knobs fixed).

    Examples
    --------
    >>> space = family_space("markov2(V=3,T=4)")
    >>> space.dimension, space.spec(np.zeros(2))["length"]
    (2, 4)
    """
    family, fixed = parse_family_call(text if "(" in text else text + "()")
    free = [p for p in family.parameters if not p.integer and p.name not in fixed]
    integers = {p.name: int(fixed.get(p.name, p.default)) for p in family.parameters if p.integer}

    def spec(u: np.ndarray, sizes: dict | None = None) -> dict:
        # 1% inside each range: at an end (overlap 1/2, say) the classes can coincide, and a
        # "margin" there is the tie rule acting on posteriors equal to 1e-10
        inner = INSET + (1 - 2 * INSET) * expit(np.asarray(u, dtype=float))
        knobs = {p.name: p.low + (p.high - p.low) * float(x) for p, x in zip(free, inner)}
        return family.spec({**fixed, **integers, **(sizes or {}), **knobs})

    if not free:
        raise InputError(
            f"family {text!r} fixes every real knob: nothing is left to search (free one of "
            f"{', '.join(p.name for p in family.parameters if not p.integer)})"
        )
    floors = {p.name: int(p.low) for p in family.parameters if p.integer and p.name in ("V", "T")}
    return SearchSpace(
        family.name, len(free), spec, {n: (integers[n], f) for n, f in floors.items()}
    )


def shape_space(text: str, *, degenerate: bool = False) -> SearchSpace:
    """Class-conditional Markov chains of shape ``r,V,T`` as softmax logits, each probability
    held at least :data:`PROB_FLOOR` (class priors :data:`PRIOR_FLOOR`) unless ``degenerate``.

    Examples
    --------
    >>> space = shape_space("2,3,4")
    >>> space.dimension, sorted(space.spec(np.zeros(space.dimension)))
    (26, ['family', 'init', 'length', 'prior', 'trans'])
    >>> shape_space("2,2,3").spec(np.r_[-40.0, 40.0, np.zeros(12)])["prior"]
    [0.1, 0.9]
    """
    try:
        r, vocab, length = (int(p) for p in text.split(","))
    except ValueError:
        raise InputError(
            f"shape must be r,V,T (three integers), got {text!r}", field="shape"
        ) from None
    for name, value, top, low in zip("rVT", (r, vocab, length), MAX_SHAPE, (2, 2, 2)):
        if not low <= value <= top:
            raise InputError(f"shape {name} must be in [{low}, {top}], got {value}", field="shape")
    blocks = (r, r * vocab, r * vocab * vocab)
    prior_floor, floor = (0.0, 0.0) if degenerate else (PRIOR_FLOOR, PROB_FLOOR)

    def law(logits: np.ndarray, lowest: float) -> list:
        # the floor, and the rest of the mass by softmax: every row sums to 1 exactly as before
        rows = softmax(logits, axis=-1)
        return (lowest + (1 - lowest * logits.shape[-1]) * rows).tolist()

    def spec(u: np.ndarray, sizes: dict | None = None) -> dict:
        prior, init, trans = np.split(u, np.cumsum(blocks)[:2])
        return {
            "family": "markov",
            "prior": law(prior, prior_floor),
            "init": law(init.reshape(r, vocab), floor),
            "trans": law(trans.reshape(r, vocab, vocab), floor),
            "length": int((sizes or {}).get("T", length)),
        }

    name = f"markov {r},{vocab},{length}" + (" (degenerate allowed)" if degenerate else "")
    return SearchSpace(name, sum(blocks), spec, {"T": (length, 2)}, (prior_floor, floor))


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


def round_spec(spec: dict, denominator: int) -> dict:
    """Every probability row of ``spec`` rounded to multiples of ``1/denominator``, summing
    to exactly 1 (largest remainders), written as short decimals.

    Examples
    --------
    >>> round_spec({"family": "iid", "prior": [0.333, 0.667], "emit": [[0.1, 0.9]] * 2,
    ...             "length": 2}, 10)["prior"]
    [0.3, 0.7]
    """

    def rows(value):
        array = np.asarray(value, dtype=float)
        if array.ndim == 1:
            scaled = array * denominator
            counts = np.floor(scaled).astype(int)
            short = denominator - counts.sum()
            counts[np.argsort(-(scaled - counts), kind="stable")[:short]] += 1
            return [float(f"{c / denominator:.6g}") for c in counts]
        return [rows(v) for v in value]

    return {key: rows(v) if key in PROBABILITIES else v
            for key, v in spec.items()}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Witness(Presented):
    """A certified source on which the claim fails (or holds), and how it was found."""

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
    before shrinking and rounding, the sizes shrunk to and the rounding kept."""

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
    check_count(evaluations, "evaluations", 1, MAX_EVALUATIONS)
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
    """
    if metric not in CERTIFIABLE:
        raise InputError(
            f"metric must be certifiable ({', '.join(CERTIFIABLE)}), got {metric!r}", field="metric"
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
        return None if _above_floors(spec, floors) else "a probability fell below the floor"


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


def _above_floors(spec: dict, floors: tuple[float, float]) -> bool:
    """Whether the class priors and every other probability keep the space's floors."""
    prior_floor, floor = floors
    rest = probabilities_of(spec, PROBABILITIES[1:])
    lowest = float(np.min(rest)) if rest.size else 1.0
    return min(spec["prior"]) >= prior_floor - 1e-12 and lowest >= floor - 1e-12


def probabilities_of(spec: dict, keys: tuple[str, ...]) -> np.ndarray:
    """The probabilities of ``spec``'s laws among ``keys``, flattened into one array."""
    found = [np.ravel(np.asarray(spec[key], dtype=float)) for key in keys if key in spec]
    return np.concatenate(found) if found else np.zeros(0)


def _certificate(spec: dict, pair: tuple[str, str], metric: str, k: int) -> Certificate:
    """The exact-arithmetic verdict of ``pair`` on ``metric`` at ``k`` on the source ``spec``."""
    source = source_from_dict(spec)
    winner, other = (parse_objective(n, source.length) for n in pair)
    return certify(source, winner, other, metric=metric, k=k, better=METRICS[metric].better)


@dataclass(frozen=True)
class Stress(Presented):
    """The tightest instance found: ``numerator / denominator`` at its largest, that is
    ``probe_error / bound`` for T2 and T2' (at most 1 by the theorems) and
    ``excess / predicted`` for T3' (a rate: 1 is its limit, not a bound)."""

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
    covered lengths: T3' is a rate, so 1 is its limit, not a bound)."""
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
    total = evaluations * point_seconds(source, names, metric, k)
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


def space_of(family: str | None, shape: str | None, *, degenerate: bool = False) -> SearchSpace:
    """The search space of ``--family`` or ``--shape`` (exactly one of them); ``degenerate``
    lifts a shape's floors (``--allow-degenerate``)."""
    if (family is None) == (shape is None):
        raise InputError("give exactly one of --family and --shape")
    if family is not None:
        if family.split("(")[0] not in FAMILIES:
            raise InputError(f"unknown family {family!r} (families: {', '.join(FAMILIES)})")
        return family_space(family)
    if shape is None:
        raise InputError("search needs --family or --shape")
    return shape_space(shape, degenerate=degenerate)
