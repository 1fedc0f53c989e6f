"""The proved statements: T1 (spectral loss = factorization) and the probe bounds T2, T2'.

Every probe here reads a row ``c`` of a co-occurrence through its conditional ``P(. | c)``:
its features are ``P(. | c) Phi`` for a ``V x k`` matrix ``Phi``, so the weighted least-squares
fit reduces to ``V x V`` algebra and the predictions to one ``V x r`` readout matrix.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from lookaround.theory.numerics import SLACK, inverse_sqrt_mass, normalize
from lookaround.theory.sources import bayes_labels
from lookaround.theory.spectral import RowChunk, TargetSide, run_pass

__all__ = [
    "ProbeScorer",
    "factorization_loss",
    "label_disagreement",
    "optimal_factors",
    "probe_bound",
    "probe_errors",
    "probe_readout",
    "spectral_features",
    "spectral_loss",
    "spectral_optimum",
]


def label_disagreement(side: TargetSide) -> float:
    """``phi`` (contexts) or ``alpha`` (samples): ``P(y(c) != y(c'))`` over the two-hop graph.

    ``1 - sum_t sum_z (R^T Y)[t, z]^2 / P_t``, equal to ``tr(U^T (I - Rbar Rbar^T) U)`` with
    ``U = D_r^{1/2} Y``.

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.25, 0.25], [0.25, 0.25]]), np.eye(2) / 2)])
    >>> label_disagreement(side)
    0.5
    """
    positive = side.target_mass > 0
    kept = (side.label_target[positive] ** 2).sum(axis=1) / side.target_mass[positive]
    return float(max(0.0, 1.0 - kept.sum()))


def probe_bound(phi: float, s_next: float) -> float:
    """Upper bound of T2 (and T2') on the argmax linear-probe error.

    Parameters
    ----------
    phi : float
        Two-hop labeling error ``phi`` (or ``alpha`` for samples).
    s_next : float
        ``s_{k+1}``, the (k+1)-th singular value of ``Abar`` (``sqrt(lam_{k+1})`` for samples);
        0 past the rank.

    Returns
    -------
    float
        ``2 phi / (1 - s_{k+1}^2)``; ``inf`` when ``s_{k+1} == 1`` to within 1e-12 (a graph
        with more than ``k`` components, where the proof gives nothing).

    Examples
    --------
    >>> probe_bound(0.1, 0.5)
    0.26666666666666666
    """
    gap = 1.0 - s_next**2
    if gap <= SLACK:
        return float("inf")
    return 2.0 * phi / gap


def spectral_features(side: TargetSide, k: int) -> np.ndarray:
    """``Phi = D_t^{-1/2} V_k S_k^{-1}``: row ``c`` of ``F_k = D_c^{-1/2} U_k`` is ``P(.|c) Phi``.

    Singular vectors with ``s_j`` below the rank tolerance are left out; the bound still holds,
    since the residual on their complement is then bounded through ``s_{k'+1} ~ 0``.
    """
    values, vectors = side.top_right_vectors(k)
    return inverse_sqrt_mass(side.target_mass)[:, None] * vectors / values[None, :]


def probe_readout(side: TargetSide, features: np.ndarray) -> np.ndarray:
    """``V x r`` readout ``B`` of the ``P_r``-weighted least-squares probe on ``P(.|row) Phi``.

    Normal equations ``(Phi^T G Phi) W = Phi^T R^T Y`` with ``G`` the target-side Gram;
    the probe predicts ``P(.|row) B`` with ``B = Phi W``.
    """
    normal = features.T @ side.gram @ features
    rhs = features.T @ side.label_target
    weights = np.linalg.lstsq(normal, rhs, rcond=None)[0]
    return features @ weights


class ProbeScorer:
    """Pass consumer: the ``P_r``-weighted argmax error of each readout against the Bayes labels."""

    def __init__(self, readouts: dict[str, np.ndarray]) -> None:
        self.readouts = readouts
        self.errors = dict.fromkeys(readouts, 0.0)

    def add(self, chunk: RowChunk) -> None:
        for name, readout in self.readouts.items():
            # rows are P_c(c) P(.|c): the positive factor P_c(c) moves no argmax (nor its
            # relative tie tolerance), so the conditionals are never formed
            wrong = bayes_labels(chunk.rows @ readout) != chunk.labels
            self.errors[name] += float(chunk.mass[wrong].sum())


def probe_errors(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]], readouts: dict[str, np.ndarray]
) -> dict[str, float]:
    """A pass of :class:`ProbeScorer` alone: the error of each readout.

    Examples
    --------
    >>> rows, cj = np.array([[0.5, 0.0], [0.0, 0.5]]), np.eye(2) / 2
    >>> probe_errors([(rows, cj)], {"right": np.eye(2), "swapped": np.eye(2)[::-1]})
    {'right': 0.0, 'swapped': 1.0}
    """
    scorer = ProbeScorer(readouts)
    run_pass(blocks, [scorer])
    return scorer.errors


def spectral_loss(cooccurrence: np.ndarray, f: np.ndarray, g: np.ndarray) -> float:
    """``L(f, g) = -2 E_{(c,t)~A} f(c).g(t) + E_{c~P_c, t~P_t} (f(c).g(t))^2`` (T1).

    Parameters
    ----------
    cooccurrence : ndarray, shape (n_c, n_t)
        ``A``, summing to 1.
    f : ndarray, shape (n_c, k)
    g : ndarray, shape (n_t, k)

    Examples
    --------
    >>> a = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> spectral_loss(a, np.ones((2, 1)), np.ones((2, 1)))
    -1.0
    """
    scores = f @ g.T
    p_c, p_t = cooccurrence.sum(axis=1), cooccurrence.sum(axis=0)
    return float(-2.0 * np.sum(cooccurrence * scores) + p_c @ scores**2 @ p_t)


def factorization_loss(cooccurrence: np.ndarray, f: np.ndarray, g: np.ndarray) -> float:
    """``||Abar - F G^T||_F^2 - ||Abar||_F^2`` with ``F = D_c^{1/2} f``, ``G = D_t^{1/2} g``.

    T1 states this equals :func:`spectral_loss` for every ``f, g``.

    Examples
    --------
    >>> a = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> round(factorization_loss(a, np.ones((2, 1)), np.ones((2, 1))), 12)
    -1.0
    """
    p_c, p_t = cooccurrence.sum(axis=1), cooccurrence.sum(axis=0)
    normalized, _, _ = normalize(cooccurrence)
    big_f, big_g = np.sqrt(p_c)[:, None] * f, np.sqrt(p_t)[:, None] * g
    return float(np.sum((normalized - big_f @ big_g.T) ** 2) - np.sum(normalized**2))


def spectral_optimum(singular_values: np.ndarray, k: int) -> float:
    """``-sum_{i<=k} s_i^2``, the rank-``k`` minimum of the spectral loss (Eckart-Young).

    Examples
    --------
    >>> spectral_optimum(np.array([1.0, 0.5, 0.1]), 2)
    -1.25
    """
    return float(-np.sum(np.asarray(singular_values)[:k] ** 2))


def optimal_factors(cooccurrence: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimizers of T1's loss: ``f = D_c^{-1/2} U_k S_k^{1/2}``, ``g = D_t^{-1/2} V_k S_k^{1/2}``.

    Examples
    --------
    >>> a = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> f, g = optimal_factors(a, 2)
    >>> round(spectral_loss(a, f, g), 12)
    -1.36
    """
    normalized, left, right = normalize(cooccurrence)
    u, s, vt = np.linalg.svd(normalized, full_matrices=False)
    root = np.sqrt(s[:k])
    return left[:, None] * u[:, :k] * root, right[:, None] * vt[:k].T * root
