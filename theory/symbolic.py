"""Symbolic derivations (sympy): T1's expansion, T3's closed forms, a two-class spectrum.

Each derivation is a list of named steps (sympy expressions) plus the identities it checked;
``lookaround derive NAME [--latex]`` prints them. Every closed form here is compared with the
numbers of ``theory`` in the tests.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import cast

import sympy as sp

from lookaround.base.errors import InputError
from lookaround.theory.objectives import parse_objective

__all__ = [
    "DERIVATIONS",
    "Derivation",
    "TWO_CLASS_OBJECTIVES",
    "coverage",
    "coverage_forms",
    "derive",
    "eps",
    "render",
    "t1",
    "two_class",
    "two_class_s2_squared",
    "two_class_source_spec",
]

T, l, m, J = sp.symbols("T l m J", positive=True, integer=True)
eps = sp.Symbol("epsilon", positive=True)


@dataclass(frozen=True)
class Derivation:
    """A titled list of ``(label, expression)`` steps and the identities verified on the way.

    Attributes
    ----------
    name : str
        Its name for ``lookaround derive``.
    title : str
        One line.
    steps : list of (str, sympy.Expr)
        The labelled steps.
    checks : dict of str to bool
        The identities verified on the way.
    """

    name: str
    title: str
    steps: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)


def render(derivation: Derivation, latex: bool = False) -> str:
    """Text (or LaTeX) of a derivation: one step a line, then its checks.

    Parameters
    ----------
    derivation : Derivation
        The derivation.
    latex : bool
        LaTeX instead of plain text.

    Returns
    -------
    str

    Examples
    --------
    >>> print(render(derive("coverage")).splitlines()[0])
    T3: coverage w(omega_l) and alignment chi in closed form
    """
    show = sp.latex if latex else sp.sstr
    lines = [derivation.title]
    lines += [f"  {label}: {show(expr)}" for label, expr in derivation.steps]
    lines += [
        f"  check {label}: {'verified' if ok else 'FAILED'}"
        for label, ok in derivation.checks.items()
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- T1


def t1(n_contexts: int = 2, n_targets: int = 2, k: int = 2) -> Derivation:
    """``||Abar - F G^T||^2 - ||Abar||^2 = -2 E_A f.g + E_{Pc x Pt} (f.g)^2`` for symbolic matrices.

    Parameters
    ----------
    n_contexts, n_targets : int
        The size of the symbolic co-occurrence.
    k : int
        The rank of the factorization.

    Returns
    -------
    Derivation
    """
    a = sp.Matrix(n_contexts, n_targets, lambda i, j: sp.Symbol(f"a_{i}{j}", positive=True))
    f = sp.Matrix(n_contexts, k, lambda i, j: sp.Symbol(f"f_{i}{j}", real=True))
    g = sp.Matrix(n_targets, k, lambda i, j: sp.Symbol(f"g_{i}{j}", real=True))
    p_c = [sum(a.row(i)) for i in range(n_contexts)]
    p_t = [sum(a.col(j)) for j in range(n_targets)]
    abar = sp.Matrix(n_contexts, n_targets, lambda i, j: a[i, j] / sp.sqrt(p_c[i] * p_t[j]))
    big_f = sp.Matrix(n_contexts, k, lambda i, j: sp.sqrt(p_c[i]) * f[i, j])
    big_g = sp.Matrix(n_targets, k, lambda i, j: sp.sqrt(p_t[i]) * g[i, j])
    residual = abar - big_f * big_g.T
    # sympy's hints read a matrix entry as a possibly nested list: each entry is an Expr here
    lhs = sum(cast(sp.Expr, x) ** 2 for x in residual) - sum(cast(sp.Expr, x) ** 2 for x in abar)
    scores = f * g.T
    cross = sum(a[i, j] * scores[i, j] for i in range(n_contexts) for j in range(n_targets))
    square = sum(
        p_c[i] * p_t[j] * cast(sp.Expr, scores[i, j]) ** 2
        for i in range(n_contexts)
        for j in range(n_targets)
    )
    rhs = -2 * cross + square
    entry = sp.expand(cast(sp.Expr, residual[0, 0]) ** 2 - cast(sp.Expr, abar[0, 0]) ** 2)
    return Derivation(
        "t1",
        f"T1: spectral loss = factorization, for a symbolic {n_contexts}x{n_targets} co-occurrence, k={k}",
        [
            ("entry (c,t) of ||Abar - F G^T||^2 - ||Abar||^2", entry),
            ("summed: -2 E_A[f.g] + E_{Pc x Pt}[(f.g)^2]", rhs),
        ],
        {"lhs - rhs simplifies to 0": sp.simplify(sp.expand(lhs - rhs)) == 0},
    )


# --------------------------------------------------------------------------- T3


def coverage_forms() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """``{objective: (w(omega_l), chi)}`` in closed form (``chi`` for ``T - 1 >= J``).

    ``mlm:m`` and ``span:m`` cover only ``l = T - m`` (``sp.KroneckerDelta``), so their ``chi``
    is infinite; ``plm`` has the pattern law of ``vmlm``.
    """
    vmlm_w = 1 / (T * sp.binomial(T, l) * (T - l))
    return {
        "ar": (1 / (T - 1), sp.Integer(1)),
        "dar:J": (1 / ((T - 1) * sp.Min(J, T - l)), (J * (J + 1) / 2 + J * (T - 1 - J)) / (T - 1)),
        "prefixlm": (1 / ((T - 1) * (T - l)), T / 2),
        "vmlm": (vmlm_w, T**2 * (2 ** (T - 1) - 1) / (T - 1) ** 2),
        "plm": (vmlm_w, T**2 * (2 ** (T - 1) - 1) / (T - 1) ** 2),
        "mlm:m": (sp.KroneckerDelta(l, T - m) / (sp.binomial(T, m) * m), sp.oo),
        "span:m": (sp.KroneckerDelta(l, T - m) / ((T - m + 1) * m), sp.oo),
        "ar:last": (sp.KroneckerDelta(l, T - 1), sp.oo),
    }


def coverage() -> Derivation:
    """T3's coverage weights and alignment, with how ``chi`` grows with ``T``."""
    steps, checks = [], {}
    domains = {"dar:J": sp.And(2 <= J, J <= T - 1), "mlm:m": sp.And(1 <= m, m <= T),
               "span:m": sp.And(1 <= m, m <= T)}  # fmt: skip
    for name, (weight, chi) in coverage_forms().items():
        if name in domains:
            steps.append((f"domain of {name} (refused outside it)", domains[name]))
        steps.append((f"w(omega_l) under {name}", weight))
        steps.append((f"chi under {name}", chi))
        if chi is not sp.oo:
            steps.append((f"lim T->oo chi under {name}", sp.limit(chi, T, sp.oo)))
    # chi = sum_l (1/(T-1))^2 / w(omega_l): check the closed forms by summation at T = 6
    for name in ("ar", "prefixlm", "vmlm"):
        weight, chi = coverage_forms()[name]
        total = sum((sp.Rational(1, 5)) ** 2 / weight.subs({T: 6, l: k}) for k in range(1, 6))
        checks[f"chi of {name} at T=6 equals its sum over l"] = (
            sp.simplify(total - cast(sp.Expr, chi.subs(T, 6))) == 0
        )
    steps.append(
        (
            "vmlm chi / 2^(T-1) as T->oo",
            sp.limit(coverage_forms()["vmlm"][1] / 2 ** (T - 1), T, sp.oo),
        )
    )
    return Derivation(
        "coverage", "T3: coverage w(omega_l) and alignment chi in closed form", steps, checks
    )


# --------------------------------------------------------------------------- two classes


def two_class_source_spec(overlap: float) -> dict:
    """The source of :func:`two_class`: iid, ``V = 2``, ``T = 3``, emissions ``(1-e, e)`` / ``(e, 1-e)``.

    Parameters
    ----------
    overlap : float
        ``e``, the emission overlap of the two classes.

    Returns
    -------
    dict
    """
    return {
        "family": "iid",
        "prior": [0.5, 0.5],
        "emit": [[1 - overlap, overlap], [overlap, 1 - overlap]],
        "length": 3,
    }


def two_class_s2_squared(objective_spec: str) -> sp.Expr:
    """``s_2^2`` of ``Abar`` on the two-class source as a rational function of the overlap.

    With ``V = 2`` the target-side Gram is 2x2 with eigenvalues 1 and ``s_2^2``, so
    ``s_2^2 = sum_{c,t} A[c,t]^2 / (P_c P_t) - 1`` exactly.

    Parameters
    ----------
    objective_spec : str
        An objective of length 3.

    Returns
    -------
    sympy.Expr
    """
    objective = parse_objective(objective_spec, 3)
    emit = [[1 - eps, eps], [eps, 1 - eps]]
    prob = {
        x: sp.Rational(1, 2) * sum(sp.Mul(*[emit[z][v] for v in x]) for z in (0, 1))
        for x in itertools.product((0, 1), repeat=3)
    }
    cooc: dict = {}
    for pattern, weight in zip(objective.patterns, objective.fractions):
        for x, p in prob.items():
            key = (pattern, tuple(x[s] for s in pattern.visible))
            row = cooc.setdefault(key, [0, 0])
            row[x[pattern.target]] += sp.Rational(weight.numerator, weight.denominator) * p
    p_t = [sum(row[t] for row in cooc.values()) for t in (0, 1)]
    total = sum(
        (row[t] ** 2 / (sum(row) * p_t[t]) for row in cooc.values() for t in (0, 1)), sp.Integer(0)
    )
    return cast(sp.Expr, sp.factor(sp.simplify(total - 1)))


TWO_CLASS_OBJECTIVES = ("ar", "mlm:1", "mlm:2", "dar:2", "vmlm")


def two_class() -> Derivation:
    """Closed-form ``s_2^2`` per objective and where AR's spectral gap beats mlm:1's."""
    forms = {name: two_class_s2_squared(name) for name in TWO_CLASS_OBJECTIVES}
    steps: list[tuple[str, sp.Basic]] = [(f"s_2^2 under {name}", e) for name, e in forms.items()]
    difference = sp.factor(sp.simplify(forms["mlm:1"] - forms["ar"]))
    steps.append(("s_2^2(mlm:1) - s_2^2(ar)", difference))
    crossings = sp.solve(sp.Eq(difference, 0), eps)
    inside = [c for c in crossings if c.is_real and 0 < c < sp.Rational(1, 2)]
    steps.append(("zeros of that difference in (0, 1/2)", sp.FiniteSet(*inside)))
    sign = sp.sign(difference.subs(eps, sp.Rational(1, 4)))
    steps.append(("its sign at epsilon = 1/4 (+: ar has the larger gap 1 - s_2^2)", sign))
    checks = {
        "s_2^2 = 0 at full overlap epsilon = 1/2": all(
            sp.simplify(expr.subs(eps, sp.Rational(1, 2))) == 0 for expr in forms.values()
        )
    }
    return Derivation(
        "two-class",
        "A two-class iid source (V=2, T=3, overlap epsilon): s_2^2 of Abar in closed form",
        steps,
        checks,
    )


DERIVATIONS = {"t1": t1, "coverage": coverage, "two-class": two_class}


def derive(name: str) -> Derivation:
    """Run one derivation by name (``lookaround derive --list`` prints the names).

    Parameters
    ----------
    name : str
        A derivation's name.

    Returns
    -------
    Derivation
    """
    if name not in DERIVATIONS:
        raise InputError(f"unknown derivation {name!r} (known: {', '.join(DERIVATIONS)})")
    return DERIVATIONS[name]()
