"""T3': the excess generation loss of a smoothed count estimator against ``N w(omega_l)``.

A count estimator sees, for prefix length ``l``, only the draws whose pattern is ``omega_l``
(about ``N w(omega_l)`` of them). Its add-``beta`` estimate of ``P(x_l | prefix)`` has excess
loss ``sum_c P(c) KL(P(.|c) || Phat(.|c))``, computed here exactly over every prefix; the
classical rate says it approaches ``sum_c (V_c - 1) / (2 N w(omega_l))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.simulations.data import draw_patterns
from lookaround.theory.cooccurrence import visible_index
from lookaround.theory.coverage import prefix_table, prefix_weights
from lookaround.theory.objectives import Objective, Pattern
from lookaround.theory.sources import Source

__all__ = ["RateResult", "count_estimator_rate"]


@dataclass(frozen=True, eq=False)
class RateResult:
    """Per prefix length ``l = 1..T-1`` (index ``l-1``), averaged over seeds.

    Attributes
    ----------
    effective_draws : ndarray
        ``N w(omega_l)``.
    excess : ndarray
        Exact excess loss of the count estimator (nan where ``w(omega_l) = 0``).
    predicted : ndarray
        ``sum_c (V_c - 1) / (2 N w(omega_l))``.
    """

    effective_draws: np.ndarray
    excess: np.ndarray
    predicted: np.ndarray


def count_estimator_rate(
    source: Source, objective: Objective, n: int, *, seeds: int = 3, beta: float = 0.5
) -> RateResult:
    """Exact excess loss of add-``beta`` count estimators trained on ``n`` draws, per ``l``.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective the counts are taken under.
    n : int
        Training draws.
    seeds : int
        Repetitions.
    beta : float
        The add-``beta`` smoothing.

    Returns
    -------
    RateResult

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> res = count_estimator_rate(preset_source("topic"), parse_objective("ar", 4), 20000, seeds=1)
    >>> bool(np.all(res.excess > 0))
    True
    """
    if n < 1 or seeds < 1 or not beta > 0:
        raise InputError("n and seeds must be >= 1 and beta > 0")
    vocab, length = source.vocab, source.length
    weights = prefix_weights(objective)
    excess = np.zeros(length - 1)
    predicted = np.full(length - 1, np.nan)
    exact = []
    for l in range(1, length):
        joint, cond = prefix_table(source, l)
        mass = joint.sum(axis=1)
        exact.append((joint, mass, cond))
        if weights[l - 1] > 0:
            support = (cond > 0).sum(axis=1)[mass > 0]
            predicted[l - 1] = np.sum(support - 1) / (2 * n * weights[l - 1])
    for seed in range(seeds):
        draws = draw_patterns(source, objective, n, seed=seed)
        for l in range(1, length):
            joint, mass, cond = exact[l - 1]
            if weights[l - 1] == 0:
                excess[l - 1] = np.nan
                continue
            pattern = Pattern(tuple(range(l)), l)
            rows = draws.pattern_index == objective.patterns.index(pattern)
            counts = np.zeros((vocab**l, vocab))
            np.add.at(
                counts,
                (visible_index(pattern.visible, draws.tokens[rows], vocab), draws.tokens[rows, l]),
                1,
            )
            estimate = (counts + beta) / (counts.sum(axis=1, keepdims=True) + beta * vocab)
            logs = np.log(np.where(cond > 0, cond, 1.0)) - np.log(estimate)
            excess[l - 1] += np.sum(joint * np.where(cond > 0, logs, 0.0)) / seeds
    return RateResult(n * weights, excess, predicted)
