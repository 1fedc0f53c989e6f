"""Generation coverage (T3): which prefix lengths an objective trains, and what a gap costs.

The test task predicts ``x_l`` from the prefix ``x_0..x_{l-1}``, ``l ~ pi_test`` on ``1..T-1``;
its pattern is ``omega_l = ({0..l-1}, l)``. A tabular predictor minimizing the population
cross-entropy equals ``P(x_l | prefix)`` where ``w(omega_l) > 0`` and its fallback ``q0``
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.theory.limits import check_generation
from lookaround.theory.marginals import joint_visible
from lookaround.theory.objectives import Objective, Pattern, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source

__all__ = ["GenerationReport", "alignment", "generation_report", "prefix_table", "prefix_weights"]


def prefix_weights(objective: Objective) -> np.ndarray:
    """``w(omega_l)`` for ``l = 1..T-1``.

    Parameters
    ----------
    objective : Objective
        The objective.

    Returns
    -------
    ndarray, shape (T - 1,)
        The weight of the prefix pattern ``({0..l-1}, l)``.

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> prefix_weights(parse_objective("mlm:1", 4)).tolist()
    [0.0, 0.0, 0.25]
    """
    length = objective.length
    return np.array([objective.weight_of(Pattern(tuple(range(l)), l)) for l in range(1, length)])


def prefix_table(source: Source, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``P(x_{<l}, x_l)`` and ``P(x_l | x_{<l})`` for ``l = length``, shapes (V^l, V).

    Conditional rows of prefixes with no mass are 0.

    Parameters
    ----------
    source : Source
        The source.
    length : int
        The prefix length ``l``.

    Returns
    -------
    joint : ndarray, shape (V^l, V)
    conditional : ndarray, shape (V^l, V)

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> joint, cond = prefix_table(preset_source("topic"), 2)
    >>> joint.shape, bool(np.allclose(cond.sum(axis=1), 1))
    ((16, 4), True)
    """
    joint = joint_visible(source, range(length + 1)).sum(axis=0).reshape(-1, source.vocab)
    mass = joint.sum(axis=1, keepdims=True)
    return joint, np.divide(joint, mass, out=np.zeros_like(joint), where=mass > 0)


def _test_law(length: int, test_law: np.ndarray | None) -> np.ndarray:
    if test_law is None:
        return np.full(length - 1, 1.0 / (length - 1))
    law = np.asarray(test_law, dtype=float)
    if law.shape != (length - 1,) or np.any(law < 0) or abs(law.sum() - 1) > 1e-9:
        raise InputError(f"test_law must be a probability vector over l = 1..{length - 1}")
    return law


def alignment(weights: np.ndarray, test_law: np.ndarray | None = None) -> float:
    """``chi = sum_l pi_test(l)^2 / w(omega_l)``; ``inf`` when a tested length is uncovered.

    Parameters
    ----------
    weights : ndarray, shape (T-1,)
        From :func:`prefix_weights`.
    test_law : ndarray, optional
        ``pi_test``; uniform on ``1..T-1`` by default.

    Examples
    --------
    >>> alignment(np.array([0.5, 0.5]))
    1.0
    >>> alignment(np.array([0.0, 1.0]))
    inf
    """
    law = _test_law(weights.size + 1, test_law)
    tested = law > 0
    if np.any(weights[tested] <= 0):
        return float("inf")
    return float(np.sum(law[tested] ** 2 / weights[tested]))


@dataclass(frozen=True, eq=False)
class GenerationReport(Presented):
    """Population generation losses per prefix length ``l = 1..T-1`` (index ``l-1``).

    Attributes
    ----------
    weights : ndarray
        ``w(omega_l)``.
    covered : ndarray of bool
    bayes_loss : ndarray
        ``H(x_l | prefix)`` in nats: the loss of the true conditional.
    fallback_excess : ndarray
        ``E KL(P(.|prefix) || q0)``: the excess if length ``l`` were uncovered.
    excess : ndarray
        ``fallback_excess`` where uncovered, 0 where covered.
    total_excess : float
        ``sum_l pi_test(l) excess[l]`` (T3).
    """

    __repr__ = short_repr

    weights: np.ndarray
    covered: np.ndarray
    bayes_loss: np.ndarray
    fallback_excess: np.ndarray
    excess: np.ndarray
    total_excess: float

    def _frame_rows(self) -> list[dict]:
        columns = ("weights", "covered", "bayes_loss", "fallback_excess", "excess")
        values = zip(*(getattr(self, name).tolist() for name in columns))
        return [{"l": l, **dict(zip(columns, row))} for l, row in enumerate(values, start=1)]


def generation_report(
    source: Source | str,
    objective: Objective | str,
    *,
    fallback: str = "uniform",
    test_law: np.ndarray | None = None,
) -> GenerationReport:
    """Exact T3 losses of the population-optimal tabular predictor for ``objective``.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective whose population-optimal predictor generates.
    fallback : {"uniform", "marginal"}
        ``q0``: uniform over ``[V]``, or the marginal law of ``x_l``.
    test_law : ndarray, optional
        The law of the tested prefix length ``l = 1..T-1`` (default uniform).

    Returns
    -------
    GenerationReport

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> rep = generation_report(preset_source("topic"), parse_objective("mlm:1", 4))
    >>> rep.covered.tolist(), bool(rep.total_excess > 0)
    ([False, False, True], True)
    """
    source = as_source(source)
    objective = as_objective(objective, source.length)
    check_generation(source)
    if fallback not in ("uniform", "marginal"):
        raise InputError(f"fallback must be 'uniform' or 'marginal', got {fallback!r}")
    length, vocab = source.length, source.vocab
    law = _test_law(length, test_law)
    weights = prefix_weights(objective)
    bayes, kl = np.zeros(length - 1), np.zeros(length - 1)
    for l in range(1, length):
        joint, cond = prefix_table(source, l)
        logs = np.log(np.where(cond > 0, cond, 1.0))
        bayes[l - 1] = -np.sum(joint * logs)
        q0 = np.full(vocab, 1.0 / vocab) if fallback == "uniform" else joint.sum(axis=0)
        with np.errstate(divide="ignore"):
            log_q0 = np.log(q0)
        cross = -np.sum(joint * np.where(joint > 0, log_q0[None, :], 0.0))
        kl[l - 1] = cross - bayes[l - 1]
    covered = weights > 0
    excess = np.where(covered, 0.0, kl)
    return GenerationReport(weights, covered, bayes, kl, excess, float(law @ excess))
