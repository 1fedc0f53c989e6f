"""Certificates: the sign of a comparison proved in exact rational arithmetic.

A witness source whose probabilities are short decimals (``0.15``) is a rational object, and so
are its co-occurrence ``A``, ``phi``, ``alpha`` and ``chi``. Singular values are not (the
normalization takes square roots), but their squares are the eigenvalues of the rational
``V x V`` matrix ``D_t^-1 A^T D_c^-1 A``, which is similar to ``Abar^T Abar``. Its exact
characteristic polynomial and isolating intervals of its real roots prove the order of
``s_(k+1)^2`` between two objectives; mpmath recomputes every value at 50 significant digits
(docs/theory.md §4.4). The sample graph's ``lam_i`` come the same way from ``Q``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.theory.limits import check_k
from lookaround.theory.objectives import Objective, Pattern, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source

__all__ = [
    "CERTIFIABLE",
    "DIGITS",
    "ExactGraph",
    "ExactValue",
    "Certificate",
    "certify",
    "check_certifiable",
    "exact_graph",
    "exact_value",
    "rational_source",
]

DIGITS = 50
CERTIFIABLE = ("s_k1", "lambda_k1", "phi", "alpha", "t2_bound", "chi")
TIE = Fraction(1, 10**10)  # docs/theory.md §2: a class within relative 1e-10 of the top ties
# V^T sequences x patterns of both objectives: each a Fraction row, about 40 us on 2 cores
MAX_EXACT_ROWS = 300_000  # about 10 s: T = 7, V = 3 under mlm:0.4 and ar is 243,000


def check_certifiable(source: Source, *objectives: Objective) -> None:
    """Refuse, in one line, a certificate whose rational arithmetic would run for minutes.

    Parameters
    ----------
    source : Source
        The source.
    *objectives : Objective
        The objectives to certify on it.

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.sources import source_from_dict
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.5, 0.5], [0.25, 0.75]], "length": 16})
    >>> check_certifiable(src, parse_objective("ar", 16))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: source: an exact certificate at V^T = 2^16 sequences ...
    """
    patterns = sum(len(o.patterns) for o in objectives)
    rows = source.vocab**source.length * patterns
    if rows > MAX_EXACT_ROWS:
        raise InputError(
            f"source: an exact certificate at V^T = {source.vocab}^{source.length} sequences x "
            f"{patterns} patterns is {rows} rational rows, over the limit of {MAX_EXACT_ROWS} "
            "(minutes of Fraction arithmetic); certify a shorter or smaller source"
        )


def rational_source(source: Source) -> tuple[list, list, list, list]:
    """The source's parameters as Fractions of their shortest decimals, rows summing to 1.

    Raises an InputError when a row does not sum to exactly 1 in decimals: such a source has
    no exact rational reading, so nothing about it can be proved.

    Parameters
    ----------
    source : Source
        The source.

    Returns
    -------
    tuple of list
        ``prior``, ``init``, ``trans`` and ``emit`` as nested lists of Fractions.
    """

    def exact(array: np.ndarray) -> Any:  # nested lists of Fractions, as deep as the array
        return (
            [exact(a) for a in array] if array.ndim else Fraction(repr(float(array)))
        )  # repr gives the shortest decimal that reads back as the same float

    prior, init, trans, emit = (exact(a) for a in (source.prior, source.init, source.trans,
                                                    source.emit))  # fmt: skip
    rows = [("prior", prior)]
    rows += [(f"init[{z}]", row) for z, row in enumerate(init)]
    rows += [(f"trans[{z}][{t}][{h}]", row) for z, per in enumerate(trans)
             for t, mat in enumerate(per) for h, row in enumerate(mat)]  # fmt: skip
    rows += [(f"emit[{z}][{t}][{h}]", row) for z, per in enumerate(emit)
             for t, mat in enumerate(per) for h, row in enumerate(mat)]  # fmt: skip
    for name, row in rows:
        if sum(row) != 1:
            raise InputError(
                f"source.{name} sums to {float(sum(row))!r} but not exactly 1 as decimals: "
                "a certificate needs probabilities that are short decimals summing to 1"
            )
    return prior, init, trans, emit


def _sequence_joint(source: Source) -> dict[tuple[int, ...], list[Fraction]]:
    """``P(z, x)`` for every sequence, exactly, by the forward algorithm in Fractions."""
    prior, init, trans, emit = rational_source(source)
    states, length = source.n_states, source.length
    joint = {}
    for x in itertools.product(range(source.vocab), repeat=length):
        per_class = []
        for z in range(source.n_classes):
            alpha = [init[z][h] * emit[z][0][h][x[0]] for h in range(states)]
            for t in range(1, length):
                alpha = [
                    sum(alpha[g] * trans[z][t - 1][g][h] for g in range(states))
                    * emit[z][t][h][x[t]]
                    for h in range(states)
                ]
            per_class.append(prior[z] * sum(alpha))
        joint[x] = per_class
    return joint


def _labels(rows: dict) -> dict:
    """Bayes labels with the documented tie rule, exactly: smallest class within 1e-10."""
    out = {}
    for key, joint in rows.items():
        top = max(joint)
        out[key] = next(z for z, p in enumerate(joint) if p >= top - TIE * abs(top))
    return out


@dataclass(frozen=True)
class ExactGraph:
    """``A`` (contexts) and ``Q`` (samples) of one objective on a rational source.

    Attributes
    ----------
    vocab : int
        ``V``.
    cooccurrence : dict
        ``A[c][t]`` as Fractions, by context.
    context_classes : dict
        ``P(z, c)`` as Fractions, by context.
    sample_targets : dict
        ``Q[x][t]`` as Fractions, by sequence.
    sample_classes : dict
        ``P(z, x)`` as Fractions, by sequence.
    weights : dict
        ``w(omega)`` as Fractions, by pattern.
    """

    vocab: int
    cooccurrence: dict  # context -> [A[c, t] for t]
    context_classes: dict  # context -> [P(z, c)]
    sample_targets: dict  # sequence -> [Q[x, t] for t]
    sample_classes: dict  # sequence -> [P(z, x)]
    weights: dict  # pattern -> w(omega), exact


def exact_graph(source: Source, objective: Objective) -> ExactGraph:
    """Exact ``A``, ``P(z, c)``, ``Q`` and ``P(z, x)`` for a small rational source.

    Parameters
    ----------
    source : Source
        A small source of rational parameters.
    objective : Objective
        The objective.

    Returns
    -------
    ExactGraph

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.sources import source_from_dict
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.75, 0.25], [0.25, 0.75]], "length": 2})
    >>> g = exact_graph(src, parse_objective("ar", 2))
    >>> sum(sum(row) for row in g.cooccurrence.values())
    Fraction(1, 1)
    """
    joint = {x: pz for x, pz in _sequence_joint(source).items() if sum(pz) > 0}
    vocab, classes = source.vocab, source.n_classes
    weights = dict(zip(objective.patterns, objective.fractions))
    a: dict = {}
    ca: dict = {}
    for x, pz in joint.items():
        px = sum(pz)
        for pattern, w in weights.items():
            key = (pattern, tuple(x[s] for s in pattern.visible))
            row = a.setdefault(key, [Fraction(0)] * vocab)
            row[x[pattern.target]] += w * px
            cls = ca.setdefault(key, [Fraction(0)] * classes)
            for z in range(classes):
                cls[z] += w * pz[z]
    q = {}
    for x, pz in joint.items():
        px, row = sum(pz), [Fraction(0)] * vocab
        for pattern, w in weights.items():
            context = a[(pattern, tuple(x[s] for s in pattern.visible))]
            mass = sum(context)
            for t in range(vocab):
                row[t] += w * px * context[t] / mass
        q[x] = row
    return ExactGraph(vocab, a, ca, q, joint, weights)


def _gram(rows: dict, vocab: int) -> tuple[sp.Matrix, list[Fraction]]:
    """``D_t^-1 R^T D_r^-1 R``, rational, similar to ``Rbar^T Rbar``; and ``P_t``."""
    p_t = [sum((row[t] for row in rows.values()), Fraction(0)) for t in range(vocab)]
    live = [t for t in range(vocab) if p_t[t] > 0]
    m = [[Fraction(0)] * len(live) for _ in live]
    for row in rows.values():
        mass = sum(row)
        for i, s in enumerate(live):
            if row[s]:
                for j, t in enumerate(live):
                    m[i][j] += row[s] * row[t] / mass
    gram = sp.Matrix(len(live), len(live),
                     lambda i, j: sp.Rational(m[i][j].numerator, m[i][j].denominator)
                     / sp.Rational(p_t[live[i]].numerator, p_t[live[i]].denominator))  # fmt: skip
    return gram, p_t


def _disagreement(rows: dict, classes: dict, vocab: int) -> Fraction:
    """``1 - sum_t sum_l (sum_{r: y(r)=l} R[r, t])^2 / P_t``: two-hop label disagreement."""
    labels = _labels(classes)
    p_t = [sum((row[t] for row in rows.values()), Fraction(0)) for t in range(vocab)]
    total = Fraction(0)
    for t in range(vocab):
        if p_t[t] == 0:
            continue
        by_label: dict = {}
        for key, row in rows.items():
            by_label[labels[key]] = by_label.get(labels[key], Fraction(0)) + row[t]
        total += sum((v * v for v in by_label.values()), Fraction(0)) / p_t[t]
    return Fraction(1) - total


@dataclass(frozen=True)
class ExactValue:
    """A certified value: exact (a Fraction), or a root of a rational polynomial.

    Attributes
    ----------
    metric : str
        The metric's key.
    value : str
        The value to 50 significant digits.
    exact : str or None
        ``"p/q"`` when the value is rational.
    charpoly : tuple of str or None
        The coefficients of the rational polynomial it is a root of, highest degree first.
    interval : tuple of str or None
        An isolating interval of that root (of the squared value).
    phi : str or None
        For ``t2_bound``: the exact ``phi`` beside the polynomial of ``s^2``.
    """

    metric: str
    value: str  # 50 significant digits
    exact: str | None  # "p/q" when the value is rational
    charpoly: tuple[str, ...] | None  # coefficients, highest degree first
    interval: tuple[str, str] | None  # isolating interval of the root (a squared value)
    phi: str | None = None  # for t2_bound: the exact phi beside the polynomial of s^2

    def bounds(self) -> tuple[Fraction | float, Fraction | float]:
        """Rational lower and upper bounds of the value (equal when it is exact; ``inf`` for an
        infinite value, such as ``chi`` with an uncovered length)."""
        if self.exact is not None:
            value = math.inf if self.exact == "inf" else Fraction(self.exact)
            return value, value
        if self.interval is None:
            raise ValueError(f"{self.metric} is neither exact nor bracketed")
        lo, hi = (Fraction(v) for v in self.interval)
        if self.metric == "s_k1":
            return _sqrt_bounds(lo, hi)
        if self.metric == "t2_bound":
            phi = _given(None if self.phi is None else Fraction(self.phi))
            low = 2 * phi / (1 - lo) if lo < 1 else math.inf
            return low, (2 * phi / (1 - hi) if hi < 1 else math.inf)
        return lo, hi


def _sqrt_bounds(lo: Fraction, hi: Fraction) -> tuple[Fraction, Fraction]:
    """Rational bounds of ``sqrt`` on ``[lo, hi]`` (to 1e-60, outward)."""
    mpmath.mp.dps = 80
    down = Fraction(str(mpmath.sqrt(mpmath.mpf(lo.numerator) / lo.denominator)))
    up = Fraction(str(mpmath.sqrt(mpmath.mpf(hi.numerator) / hi.denominator)))
    return max(down - Fraction(1, 10**60), Fraction(0)), up + Fraction(1, 10**60)


def _root(gram: sp.Matrix, index: int, metric: str, phi: Fraction | None) -> ExactValue:
    """The ``index``-th largest eigenvalue of ``gram`` (1-based), certified."""
    if index > gram.shape[0]:  # past the targets: s = 0 exactly, and the bound is 2 phi
        value = 2 * _given(phi) if metric == "t2_bound" else Fraction(0)
        return ExactValue(metric, _digits(value), str(value), None, None)
    lam = sp.Symbol("lam")
    poly = sp.Poly(gram.charpoly(lam).as_expr(), lam)  # pyright: ignore[reportArgumentType] (sympy accepts a Symbol)
    roots = []  # isolating intervals, largest root first, with multiplicity
    intervals: list = list(poly.intervals(eps=Fraction(1, 10**60)))  # pyright: ignore[reportArgumentType] (a Fraction eps is accepted)
    for (lo, hi), mult in reversed(intervals):
        roots += [(Fraction(str(lo)), Fraction(str(hi)))] * mult
    lo, hi = roots[index - 1]
    mpmath.mp.dps = DIGITS + 20
    midpoint = mpmath.mpf((lo + hi).numerator) / (2 * (lo + hi).denominator)
    value = {"s_k1": mpmath.sqrt(midpoint), "lambda_k1": midpoint}.get(metric)
    if metric == "t2_bound":
        half = _given(phi)
        value = 2 * mpmath.mpf(half.numerator) / half.denominator / (1 - midpoint)
    coefficients = tuple(str(c) for c in poly.all_coeffs())
    exact = str(lo) if lo == hi else None
    return ExactValue(metric, str(mpmath.nstr(value, DIGITS)), exact if metric == "lambda_k1" else None,
                      coefficients, (str(lo), str(hi)), None if phi is None else str(phi))  # fmt: skip


def _digits(value: Fraction | int) -> str:
    value = Fraction(value)
    mpmath.mp.dps = DIGITS + 20
    return str(mpmath.nstr(mpmath.mpf(value.numerator) / value.denominator, DIGITS))


def _given(phi: Fraction | None) -> Fraction:
    """``phi`` where the metric (``t2_bound``) carries it."""
    if phi is None:
        raise ValueError("t2_bound is certified with its exact phi")
    return phi


def exact_value(source: Source, objective: Objective, *, metric: str, k: int) -> ExactValue:
    """One certifiable metric (``CERTIFIABLE``) of ``objective`` on a rational ``source``.

    Parameters
    ----------
    source : Source
        A source of rational parameters.
    objective : Objective
        The objective.
    metric : str
        One of ``CERTIFIABLE``.
    k : int
        The feature dimension.

    Returns
    -------
    ExactValue

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.sources import source_from_dict
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.75, 0.25], [0.25, 0.75]], "length": 3})
    >>> exact_value(src, parse_objective("ar", 3), metric="phi", k=1).exact
    '231/512'
    """
    if metric not in CERTIFIABLE:
        raise InputError(
            f"metric {metric!r} has no certificate (certifiable: {', '.join(CERTIFIABLE)})"
        )
    if metric == "chi":
        return _chi(objective)
    graph = exact_graph(source, objective)
    if metric in ("phi", "alpha"):
        rows, classes = ((graph.cooccurrence, graph.context_classes) if metric == "phi"
                         else (graph.sample_targets, graph.sample_classes))  # fmt: skip
        value = _disagreement(rows, classes, graph.vocab)
        return ExactValue(metric, _digits(value), str(value), None, None)
    rows = graph.sample_targets if metric == "lambda_k1" else graph.cooccurrence
    gram, _ = _gram(rows, graph.vocab)
    phi = None
    if metric == "t2_bound":
        phi = _disagreement(graph.cooccurrence, graph.context_classes, graph.vocab)
    return _root(gram, k + 1, metric, phi)


def _chi(objective: Objective) -> ExactValue:
    length = objective.length
    weights = dict(zip(objective.patterns, objective.fractions))
    prefix = [weights.get(Pattern(tuple(range(l)), l), Fraction(0)) for l in range(1, length)]
    if any(w == 0 for w in prefix):
        return ExactValue("chi", "inf", "inf", None, None)
    value = sum(Fraction(1, (length - 1) ** 2) / w for w in prefix)
    return ExactValue("chi", _digits(value), str(value), None, None)


@dataclass(frozen=True)
class Certificate(Presented):
    """The proved sign of ``metric(winner) - metric(other)`` on one rational source.

    Attributes
    ----------
    metric : str
        The metric's key.
    k : int
        The feature dimension.
    better : str
        ``"lower"`` or ``"higher"``.
    winner, other : ExactValue
        The two objectives' certified values.
    margin : str
        The signed margin, oriented so that positive favours ``winner``.
    verdict : str
        ``holds``, ``fails`` or ``tie``.
    """

    __repr__ = short_repr

    metric: str
    k: int
    better: str
    winner: ExactValue
    other: ExactValue
    margin: str  # 50 significant digits; > 0 where the paper's side (winner) wins
    verdict: str  # holds / fails / tie, proved; unresolved when the intervals overlap

    def record(self) -> dict:
        """The JSON form (docs/json.md, "Witnesses")."""

        def value(v: ExactValue) -> dict:
            return {"value": v.value, "exact": v.exact, "charpoly": v.charpoly,
                    "interval": v.interval, "phi": v.phi}  # fmt: skip

        return {"metric": self.metric, "k": self.k, "better": self.better,
                "winner": value(self.winner), "other": value(self.other),
                "margin": self.margin, "verdict": self.verdict}  # fmt: skip


def _proved(better: str, winner: ExactValue, other: ExactValue) -> str:
    (w_lo, w_hi), (o_lo, o_hi) = winner.bounds(), other.bounds()
    if winner.exact is not None and other.exact is not None and winner.exact == other.exact:
        return "tie"
    if _same_root(winner, other):
        return "tie"
    if w_hi < o_lo:
        return "holds" if better == "lower" else "fails"
    if w_lo > o_hi:
        return "fails" if better == "lower" else "holds"
    return "unresolved"


def _same_root(winner: ExactValue, other: ExactValue) -> bool:
    """Whether both values are provably the same root: each side's isolating interval holds
    one root of its polynomial, so a root of their common factor inside both intervals is
    that root on both sides (and the values are equal when ``phi``, if any, is too)."""
    if not (winner.charpoly and other.charpoly and winner.interval and other.interval):
        return False
    if winner.phi != other.phi:
        return False
    lo = max(Fraction(winner.interval[0]), Fraction(other.interval[0]))
    hi = min(Fraction(winner.interval[1]), Fraction(other.interval[1]))
    if lo > hi:
        return False
    lam = sp.Symbol("lam")
    first, second = (sp.Poly([sp.Rational(c) for c in coefficients], lam)
                     for coefficients in (winner.charpoly, other.charpoly))  # fmt: skip
    common = first.gcd(second)
    if common.degree() < 1:
        return False
    if lo == hi:
        return common.eval(sp.Rational(lo.numerator, lo.denominator)) == 0
    found = common.count_roots(sp.Rational(lo.numerator, lo.denominator),
                               sp.Rational(hi.numerator, hi.denominator))  # fmt: skip
    return bool(found >= 1)


def certify(
    source: Source | str,
    winner: Objective | str,
    other: Objective | str,
    *,
    metric: str,
    k: int,
    better: str,
) -> Certificate:
    """Prove which of two objectives wins on ``metric`` at ``k`` on a rational source.

    Parameters
    ----------
    source : Source
        A source of rational parameters (:func:`rational_source`).
    winner, other : Objective
        The paper's side and the other.
    metric : str
        One of ``CERTIFIABLE``.
    k : int
        The feature dimension.
    better : str
        ``"lower"`` or ``"higher"``.

    Returns
    -------
    Certificate

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.sources import source_from_dict
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.75, 0.25], [0.25, 0.75]], "length": 3})
    >>> cert = certify(src, parse_objective("mlm:1", 3), parse_objective("ar", 3), metric="s_k1",
    ...                k=1, better="lower")
    >>> cert.verdict, cert.margin[:8]
    ('fails', '-0.03118')
    """
    if better not in ("higher", "lower"):
        raise InputError(f"better must be 'higher' or 'lower', got {better!r}")
    source = as_source(source)
    winner = as_objective(winner, source.length, "winner")
    other = as_objective(other, source.length, "other")
    check_k(k, source.vocab)
    check_certifiable(source, winner, other)
    values = [exact_value(source, o, metric=metric, k=k) for o in (winner, other)]
    mpmath.mp.dps = DIGITS + 20
    a, b = (mpmath.mpf(v.value) if v.value != "inf" else mpmath.inf for v in values)
    raw = (a - b) if better == "higher" else (b - a)
    margin = "0" if a == b else str(mpmath.nstr(raw, DIGITS))
    return Certificate(metric, k, better, values[0], values[1], margin,
                       _proved(better, *values))  # fmt: skip
