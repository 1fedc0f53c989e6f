"""T1's map past enumeration: ``Psi_k`` from the Monte Carlo estimate of the target-side
Gram (the estimator of ``analyze --mc``, docs/theory.md §9), and whether the draws resolve the
top-``k`` subspace at all (§10.4).

``Abar^T Abar = D_t^{-1/2} E_c[q_c q_c^T] D_t^{-1/2}`` is averaged over contexts drawn from the
objective's pattern law, each with its exact conditional ``q_c``; no context is enumerated and
memory is ``O(V^2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from lookaround.theory.limits import check_draws
from lookaround.theory.marginals import position_marginals
from lookaround.theory.montecarlo import drawn_contexts
from lookaround.theory.numerics import AMBIGUITY_TOL, inverse_sqrt_mass
from lookaround.theory.pattern_laws import PatternLaw, pattern_law
from lookaround.theory.sources import Source

__all__ = ["FeatureMapEstimate", "feature_map_estimate"]


@dataclass(frozen=True, eq=False)
class FeatureMapEstimate:
    """T1's map from the Monte Carlo estimate of the target-side Gram (the estimator of
    ``analyze --mc``), for sources whose co-occurrence cannot be built.

    Attributes
    ----------
    singular_values : ndarray
        ``s_1 >= s_2 >= ...`` of the estimated ``Abar`` (square roots of the Gram's
        eigenvalues; ``s_1`` estimates 1).
    feature_map : ndarray, shape (V, rank)
        ``Psi = D_t^{-1/2} V S^{-1/2}``; its first ``k`` columns are ``Psi_k``.
    target_mass : ndarray, shape (V,)
        ``P_t``, exact.
    n, seed : int
        Contexts drawn, and their seed.
    gap_low : ndarray, shape (V - 1,)
        ``gap_low[k - 1]``: the lower end of the 95% interval of ``s_k^2 - s_(k+1)^2`` (the
        Gram's eigenvalue gap; first-order influence functions over the same draws).
    top_half : ndarray, shape (V,)
        ``top_half[k - 1]``: the half-width of the 95% interval of ``s_1^2 + ... + s_k^2``
        (minus T1's optimum at ``k``; the same influence functions).
    """

    singular_values: np.ndarray
    feature_map: np.ndarray
    target_mass: np.ndarray
    n: int
    seed: int
    gap_low: np.ndarray
    top_half: np.ndarray

    def ambiguous(self, k: int) -> bool:
        """Whether the draws cannot separate ``s_k`` from ``s_(k+1)``: the interval of their
        gap reaches 0, so the top-``k`` subspace, and T1's map with it, is not resolved.

        A screen, not a test at a stated level: at an exact tie the sorted estimates are
        pushed apart (by about ``1/sqrt(n)``), so it still flags most ties, not 95% of them
        (docs/theory.md §10.4).

        Parameters
        ----------
        k : int
            The feature dimension, ``1 <= k``; past ``V - 1`` there is no ``s_(k+1)`` to tie.

        Returns
        -------
        bool
        """
        # equal eigenvalues of a rank-deficient Gram (0 = 0) are estimated equal to rounding
        return k <= self.gap_low.size and bool(self.gap_low[k - 1] <= AMBIGUITY_TOL)


def feature_map_estimate(
    source: Source, objective: str, *, n: int, seed: int = 0
) -> FeatureMapEstimate:
    """``Psi_k`` of every ``k`` from ``n`` contexts drawn from ``objective``'s pattern law.

    The Gram ``Abar^T Abar = D_t^{-1/2} E_c[q_c q_c^T] D_t^{-1/2}`` is averaged over the
    contexts' exact conditionals ``q_c = P(x_i = . | x_S)`` (forward-backward), with ``P_t``
    exact, so no context is enumerated and memory is ``O(V^2)``.

    Parameters
    ----------
    source : Source
        The source.
    objective : str
        An objective's name.
    n : int
        Contexts drawn.
    seed : int
        Their seed (the ``monte_carlo`` stream, as ``analyze --mc``).

    Returns
    -------
    FeatureMapEstimate

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> est = feature_map_estimate(preset_source("markov"), "ar", n=4000)
    >>> est.feature_map.shape, round(float(est.singular_values[0]), 2)
    ((3, 3), 1.0)
    """
    law = pattern_law(objective, source.length)
    check_draws(n, "n", length=source.length, low=2)
    target_mass = law.target_law @ position_marginals(source)
    gram = np.zeros((source.vocab, source.vocab))
    for q, _ in drawn_contexts(source, law, n=n, seed=seed):
        gram += q.T @ q
    scale = inverse_sqrt_mass(target_mass)
    values, vectors = np.linalg.eigh(scale[:, None] * (gram / n) * scale[None, :])
    values, vectors = values[::-1], vectors[:, ::-1]
    rank = int(np.sum(values > 1e-12 * values[0]))
    s = np.sqrt(values[:rank])
    psi = scale[:, None] * vectors[:, :rank] / np.sqrt(s)[None, :]
    gap_low, top_half = _influence_ends(source, law, n, seed, scale[None, :] * vectors.T)
    return FeatureMapEstimate(s, psi, target_mass, n, seed, gap_low, top_half)


def _influence_ends(
    source: Source, law: PatternLaw, n: int, seed: int, directions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lower 95% ends of ``lambda_k - lambda_(k+1)`` and half-widths of ``lambda_1 + ... +
    lambda_k``, from a second pass over the same draws: a context's influence on
    ``lambda_j`` is ``(v_j . D^(-1/2) q)^2 - lambda_j``, so on the gap it is the difference of
    two squares and on the sum their running sum; the Gram's ``O(V^2)`` memory is kept."""
    first = np.zeros(directions.shape[0])
    second = np.zeros((directions.shape[0] - 1,))
    running = np.zeros(directions.shape[0])
    for q, _ in drawn_contexts(source, law, n=n, seed=seed):
        squares = (q @ directions.T) ** 2  # (contexts, V): (v_j . D^(-1/2) q)^2
        first += squares.sum(axis=0)
        second += (np.diff(-squares, axis=1) ** 2).sum(axis=0)
        running += (np.cumsum(squares, axis=1) ** 2).sum(axis=0)
    z = float(norm.ppf(0.975))
    gaps = -np.diff(first / n)  # lambda_k - lambda_(k+1), the estimates themselves
    spread = np.sqrt(np.maximum(second / n - gaps**2, 0.0) / n)
    sums = np.cumsum(first / n)
    return gaps - z * spread, z * np.sqrt(np.maximum(running / n - sums**2, 0.0) / n)
