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

from lookaround.simulations.metrics import (
    EXACT_TOL,
    METRICS,
    ExactSource,
    check_claim_metric,
    default_objectives,
    margin,
)
from lookaround.simulations.rates import count_estimator_rate
from lookaround.theory.analysis import analyze
from lookaround.theory.certificates import CERTIFIABLE, Certificate, certify
from lookaround.theory.errors import InputError
from lookaround.theory.families import FAMILIES, parse_family_call
from lookaround.theory.objectives import parse_objective
from lookaround.theory.reprs import short_repr
from lookaround.theory.seeds import streams
from lookaround.theory.sources import bayes_labels, sequence_joint, source_from_dict
from lookaround.theory.theorems import Theorem

__all__ = [
    "DENOMINATORS",
    "SearchRecord",
    "SearchSpace",
    "Stress",
    "Witness",
    "family_space",
    "round_spec",
    "search_witness",
    "shape_space",
    "space_of",
    "stress_theorem",
    "verify_record",
]

DENOMINATORS = (4, 10, 20, 100, 1000, 10_000)  # short decimals, tried in this order
INSET = 0.01  # a family's knobs are searched on the inner 98% of their ranges
MAX_SHAPE = (4, 4, 8)  # r, V, T: the exact analysis of every step stays well under a second


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

    floors = {p.name: int(p.low) for p in family.parameters if p.integer and p.name in ("V", "T")}
    return SearchSpace(
        family.name, len(free), spec, {n: (integers[n], f) for n, f in floors.items()}
    )


def shape_space(text: str) -> SearchSpace:
    """Class-conditional Markov chains of shape ``r,V,T`` as softmax logits.

    Examples
    --------
    >>> space = shape_space("2,3,4")
    >>> space.dimension, sorted(space.spec(np.zeros(space.dimension)))
    (26, ['family', 'init', 'length', 'prior', 'trans'])
    """
    try:
        r, vocab, length = (int(p) for p in text.split(","))
    except ValueError:
        raise InputError(f"--shape must be r,V,T (three integers), got {text!r}") from None
    for name, value, top, low in zip("rVT", (r, vocab, length), MAX_SHAPE, (2, 2, 2)):
        if not low <= value <= top:
            raise InputError(f"--shape {name} must be in [{low}, {top}], got {value}")
    blocks = (r, r * vocab, r * vocab * vocab)

    def spec(u: np.ndarray, sizes: dict | None = None) -> dict:
        prior, init, trans = np.split(u, np.cumsum(blocks)[:2])
        return {
            "family": "markov",
            "prior": softmax(prior).tolist(),
            "init": softmax(init.reshape(r, vocab), axis=1).tolist(),
            "trans": softmax(trans.reshape(r, vocab, vocab), axis=2).tolist(),
            "length": int((sizes or {}).get("T", length)),
        }

    return SearchSpace(f"markov {r},{vocab},{length}", sum(blocks), spec, {"T": (length, 2)})


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

    return {key: rows(v) if key in ("prior", "init", "trans", "emit") else v
            for key, v in spec.items()}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Witness:
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
    value: float
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
    return _Optimum(best["u"], float(best["value"]), restarts, int(best["evaluations"]))


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
    seed: int = 0,
    evaluations: int = 1000,
    seconds: float | None = None,
    wanted: str = "fails",
) -> Witness:
    """Search, shrink, round and certify a source on which ``claim`` is ``wanted`` on ``metric``.

    The budget is ``evaluations`` exact margins (``seconds``, optional, caps the time too).
    Raises an InputError when no source of the space gives the wanted verdict within the
    budget (the best margin found is in the message).
    """
    if metric not in CERTIFIABLE:
        raise InputError(f"--metric must be certifiable ({', '.join(CERTIFIABLE)}), got {metric!r}")
    chosen = check_claim_metric(claim, metric)  # the rule map applies too
    pair = objectives or default_objectives(claim, chosen)
    sign = -1.0 if wanted == "fails" else 1.0
    started = time.monotonic()

    def score(u: np.ndarray) -> float:
        value = _margin(space.spec(u), metric, k, pair)
        if value != value:
            return 1e3  # nan: a point outside the family
        # an infinite margin (chi of an uncovered length) is clipped: the simplex only needs
        # the order, and inf - inf inside it would be nan
        return -sign * float(np.clip(value, -1e6, 1e6))

    found = _optimize(space, score, seed, evaluations=evaluations, seconds=seconds)
    if not -found.value > EXACT_TOL:
        raise InputError(
            f"no source of {space.name} where {claim} {wanted} on {metric} within "
            f"{found.evaluations} evaluations (best margin {sign * -found.value:.3g})"
        )

    def keeps(spec: dict) -> bool:
        value = _margin(spec, metric, k, pair)
        return value == value and sign * value > EXACT_TOL and _informative(spec)

    shrunk, sizes = _shrink(space, found.u, keeps)
    full = {name: size for name, (size, _) in space.shrinkable.items()}
    # the shrunk source first; if rounding erases its (smaller) margin, the unshrunk one
    for spec, shape in ((shrunk, sizes), (space.spec(found.u), full)):
        for denominator in DENOMINATORS:
            rounded = round_spec(spec, denominator)
            certificate = _certificate(rounded, pair, metric, k) if keeps(rounded) else None
            if certificate is not None and certificate.verdict == wanted:
                search = SearchRecord(space=space.name, seed=seed, restarts=found.restarts,
                                      evaluations=found.evaluations,
                                      seconds=time.monotonic() - started,
                                      found_margin=-sign * found.value, shrunk=shape,
                                      denominator=denominator)  # fmt: skip
                return Witness(claim=claim, metric=metric, k=k, objectives=pair, wanted=wanted,
                               search=search, source=rounded, certificate=certificate)  # fmt: skip
    raise InputError(
        f"the witness of {claim} on {metric} (margin {sign * -found.value:.3g}) lost its sign at "
        f"every rounding to steps of 1/{DENOMINATORS[-1]} or coarser"
    )


def _certificate(spec: dict, pair: tuple[str, str], metric: str, k: int) -> Certificate:
    """The exact-arithmetic verdict of ``pair`` on ``metric`` at ``k`` on the source ``spec``."""
    source = source_from_dict(spec)
    winner, other = (parse_objective(n, source.length) for n in pair)
    return certify(source, winner, other, metric=metric, k=k, better=METRICS[metric].better)


@dataclass(frozen=True)
class Stress:
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
    score = _stress_score(theorem, objective, k)
    found = _optimize(space, lambda v: -score(space.spec(v))[0], seed,
                      evaluations=evaluations, seconds=seconds)  # fmt: skip
    spec = space.spec(found.u)
    value, error, bound = score(spec)
    return Stress(theorem, objective, k, value, error, bound, spec, found.restarts,
                  found.evaluations)  # fmt: skip


def _theorem(name: Theorem | str) -> Theorem:
    try:
        return Theorem(name)
    except ValueError:
        raise InputError(f"--theorem must be one of {', '.join(Theorem)}, got {name!r}") from None


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
        result = getattr(analysis, level)
        bound = float(result.bound)
        return (result.probe_error / bound if bound > 0 else 0.0), result.probe_error, bound

    return ratio


def space_of(family: str | None, shape: str | None) -> SearchSpace:
    """The search space of ``--family`` or ``--shape`` (exactly one of them)."""
    if (family is None) == (shape is None):
        raise InputError("give exactly one of --family and --shape")
    if family is not None:
        if family.split("(")[0] not in FAMILIES:
            raise InputError(f"unknown family {family!r} (families: {', '.join(FAMILIES)})")
        return family_space(family)
    if shape is None:
        raise InputError("search needs --family or --shape")
    return shape_space(shape)


def verify_record(record: dict) -> list[str]:
    """Recompute a witness's certificate from its JSON alone; the list of disagreements.

    An empty list means the certificate re-verifies: the same exact values, polynomials and
    isolating intervals, the same proved verdict, and the 50-digit margin equal to 45 digits.
    """
    if not isinstance(record, dict) or record.get("kind") != "witness":
        raise InputError("the file is not a witness written by `lookaround search`")
    try:
        source = source_from_dict(record["source"])
        pair = [parse_objective(name, source.length) for name in record["objectives"]]
        metric, k, stored = record["metric"], int(record["k"]), record["certificate"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"witness: missing or malformed field ({exc})") from None
    if metric not in CERTIFIABLE:
        raise InputError(f"witness.metric {metric!r} has no certificate")
    fresh = certify(source, *pair, metric=metric, k=k, better=METRICS[metric].better).record()
    problems = []
    for side in ("winner", "other"):
        for key in ("exact", "charpoly", "interval", "phi"):
            old, new = stored[side].get(key), fresh[side][key]
            if (list(old) if isinstance(old, (list, tuple)) else old) != (
                list(new) if isinstance(new, (list, tuple)) else new
            ):
                problems.append(f"{side}.{key}: stored {old!r}, recomputed {new!r}")
    if fresh["verdict"] != stored.get("verdict") or fresh["verdict"] == "unresolved":
        problems.append(f"verdict: stored {stored.get('verdict')!r}, proved {fresh['verdict']!r}")
    if fresh["margin"][:47] != str(stored.get("margin", ""))[:47]:
        problems.append(f"margin: stored {stored.get('margin')}, recomputed {fresh['margin']}")
    if record.get("wanted") and fresh["verdict"] != record["wanted"]:
        problems.append(f"the claim {fresh['verdict']} on this source, not {record['wanted']}")
    return problems
