"""The Monte Carlo estimator's second pass: influence terms, biases and intervals.

Every number of T2 at the context level is a smooth function of averages over drawn contexts
(:mod:`lookaround.theory.montecarlo`), so its interval comes from the central limit theorem on
first-order influence terms, summed on a second pass over the same draws (docs/theory.md §9):
the eigenvalues' (with their second-order perturbation bias), ``phi``'s (maximized over label
proportions near the drawn ones) and the bound's, which combines both with their covariance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lookaround.theory.intervals import ContextEstimates, Interval
from lookaround.theory.marginals import bayes_labels
from lookaround.theory.numerics import SLACK

__all__ = ["LABEL_RADIUS", "SecondPass", "context_intervals", "label_worst_variance", "second_pass"]


@dataclass
class SecondPass:
    """Sums of the influence terms over the same draws; ``w = U^T D_t^{-1/2} q`` projects a
    draw on the estimated eigenvectors, ``m`` of them estimated (``s_2..s_{m+1}``).

    Attributes
    ----------
    n : int
        Draws summed.
    fourth, cross : ndarray
        ``sum_j w_jv^2 w_ji^2`` and ``sum_j w_jv w_ji``, shape (V, m).
    phi : ndarray
        Sums of ``g``, ``g^2`` and ``g w_last^2``.
    by_label : ndarray, shape (3, r)
        Per Bayes label: draws, ``sum g`` and ``sum g^2``.
    wrong : int
        Draws the probe misclassifies.
    unstable : int
        Draws the readouts of the two halves label differently.
    """

    n: int = 0
    fourth: np.ndarray | float = 0.0  # sum_j w_jv^2 w_ji^2, shape (V, m)
    cross: np.ndarray | float = 0.0  # sum_j w_jv w_ji, shape (V, m)
    phi: np.ndarray = field(default_factory=lambda: np.zeros(3))  # sums of g, g^2, g w_last^2
    by_label: np.ndarray | float = 0.0  # per label: draws, sum g, sum g^2; shape (3, r)
    wrong: int = 0  # draws the probe misclassifies
    unstable: int = 0  # draws the readouts of the two halves label differently


def _near_ties(q: np.ndarray, readouts: list[np.ndarray], z_score: float) -> int:
    """Draws whose probe label could flip with the noise of the readout ``B``.

    The noise of a draw's score gap (best class minus runner-up, under ``B``) is estimated
    by the gap's difference between the readouts of the two halves of the draws, about
    twice its standard deviation; a gap within ``z_score`` times that is a near tie.
    """
    scores = [q @ readout for readout in readouts]
    order = np.argsort(-scores[0], axis=1)[:, :2]
    rows = np.arange(q.shape[0])[:, None]
    gaps = [np.diff(s[rows, order], axis=1).ravel() for s in scores]
    return int(np.sum(np.abs(gaps[0]) <= z_score * np.abs(gaps[1] - gaps[2])))


def second_pass(chunks, *, scale, root, vectors, labels, readouts, m, z_score) -> SecondPass:
    """
    Parameters
    ----------
    chunks : iterable of (q, y)
        The draws again: exact conditionals ``q`` (n, V) and Bayes labels ``y`` (n,).
    scale, root : ndarray, shape (V,)
        ``P_t^{-1/2}`` and ``P_t^{1/2}``.
    vectors : ndarray, shape (V, V - 1)
        The first pass's eigenvectors, ``sqrt(P_t)`` left out.
    labels : ndarray, shape (V, r)
        The first pass's ``L``.
    readouts : list of ndarray
        The probe's readout on all draws and on each half.
    m : int
        Eigenvalues estimated.
    z_score : float
        The normal quantile of the intervals.

    Returns
    -------
    SecondPass
    """
    out = SecondPass()
    for q, y in chunks:
        w = (q * scale[None, :] - root[None, :]) @ vectors
        top = w[:, :m]
        out.fourth = out.fourth + (w**2).T @ top**2
        out.cross = out.cross + w.T @ top
        # phi = 1 - sum L^2 / P_t: its influence is -2 q_j . (L[:, y_j] / P_t)
        g = -2.0 * np.einsum("nt,nt->n", q, (labels * scale[:, None] ** 2).T[y])
        last = top[:, m - 1] ** 2 if m else np.zeros(q.shape[0])
        out.phi += [g.sum(), (g**2).sum(), (g * last).sum()]
        classes = labels.shape[1]
        out.by_label = out.by_label + np.stack(
            [np.bincount(y, weights=w, minlength=classes) for w in (np.ones_like(g), g, g**2)]
        )
        out.wrong += int(np.sum(bayes_labels(q @ readouts[0]) != y))
        out.unstable += _near_ties(q, readouts, z_score)
        out.n += q.shape[0]
    return out


LABEL_RADIUS = 1.0
"""Standard errors of the label proportions the error of ``phi`` is maximized over."""


def label_worst_variance(by_label: np.ndarray, n: int) -> float:
    """``Var g`` at the worst label proportions ``pi`` within :data:`LABEL_RADIUS` standard
    errors of the drawn ones, along each label's axis.

    ``g_j = -2 q_j . L[:, y_j] / P_t`` and ``L[:, z] = pi_z C_z``: holding the class-conditional
    ``C_z`` and moving ``pi`` scales label ``z``'s terms by ``pi_z / pihat_z``. At ``pihat``
    this is the plug-in variance; near balanced labels, where ``phi`` is stationary in ``pi``,
    the plug-in moves with the drawn ``pihat`` and against the estimate, and the maximum does
    not (after Berger and Boos 1994; docs/theory.md §9 says why the region is this narrow).

    Parameters
    ----------
    by_label : ndarray, shape (3, r)
        Per label: draws, ``sum g`` and ``sum g^2`` (:attr:`SecondPass.by_label`).
    n : int
        Draws in all.

    Returns
    -------
    float
    """
    counts, sums, squares = by_label
    seen = counts > 0
    pihat = counts / n
    mean = np.where(seen, sums / np.where(seen, counts, 1), 0.0)
    second = np.where(seen, squares / np.where(seen, counts, 1), 0.0)

    def variance(pi: np.ndarray) -> float:
        ratio = np.where(seen, pi / np.where(seen, pihat, 1), 0.0)
        return float(pi @ (ratio**2 * second) - (pi @ (ratio * mean)) ** 2)

    radius = LABEL_RADIUS
    spread = np.sqrt(np.maximum(pihat * (1 - pihat), 0.0) / n)
    worst = variance(pihat)
    for z in np.flatnonzero(seen):  # along each label's axis, the others scaled to compensate
        for sign in (-1.0, 1.0):
            step = np.zeros_like(pihat)
            step[z] = sign * radius * spread[z]
            rest = seen & (np.arange(pihat.size) != z)
            if rest.any():
                step[rest] = -step[z] * pihat[rest] / pihat[rest].sum()
            pi = np.clip(pihat + step, 0.0, 1.0)
            worst = max(worst, variance(pi / pi.sum()))
    return max(worst, 0.0)


@dataclass(frozen=True)
class _Spectrum:
    """``s_1..s_{k+1}`` with intervals, the second-order biases, and the corrected
    ``lambda_{k+1}`` with the mean and variance of its influence term."""

    singular_values: tuple[Interval, ...]
    bias: np.ndarray
    last: float
    last_mean: float
    last_variance: float


def _spectrum(
    eigenvalues: np.ndarray, second: SecondPass, *, m: int, k: int, z_score: float
) -> _Spectrum:
    """The estimated spectrum of ``second``'s draws (``m`` eigenvalues estimated)."""
    n = second.n
    lam = eigenvalues[:m]
    means = np.asarray(second.cross) / n  # E[w_v w_i]
    fourth = np.asarray(second.fourth)
    covariance = fourth / n - means**2  # Var(w_v w_i), v != i
    gaps = lam[None, :] - eigenvalues[:, None]
    off = np.abs(gaps) > SLACK
    bias = np.sum(np.where(off, covariance / np.where(off, gaps, 1.0), 0.0), axis=0) / n
    corrected = lam - bias
    index = np.arange(m)
    variance = np.maximum(fourth[index, index] / n - means[index, index] ** 2, 0.0)
    values = [Interval(1.0, 1.0, 1.0)]  # s_1 = 1 exactly
    for c, v in zip(corrected, variance):
        half = z_score * np.sqrt(v / n) + SLACK  # SLACK: eigh's rounding of a zero eigenvalue
        values.append(
            Interval(
                float(np.sqrt(max(c, 0.0))),
                float(np.sqrt(max(c - half, 0.0))),
                float(np.sqrt(max(c + half, 0.0))),
            )
        )
    values += [Interval(0.0, 0.0, 0.0)] * (k + 1 - len(values))  # s_j = 0 past the rank V
    if m < k:  # lambda_(k+1) lies past the rank: exactly 0
        return _Spectrum(tuple(values), bias, 0.0, 0.0, 0.0)
    return _Spectrum(tuple(values), bias, float(corrected[m - 1]),
                     float(means[m - 1, m - 1]), float(variance[m - 1]))  # fmt: skip


def context_intervals(
    eigenvalues: np.ndarray,
    phi: float,
    second: SecondPass,
    *,
    m: int,
    k: int,
    z_score: float,
    degenerate: float,
) -> tuple[ContextEstimates, np.ndarray]:
    """The intervals of every estimate, at the coverage whose normal quantile is ``z_score``.

    Parameters
    ----------
    eigenvalues : ndarray
        The first pass's estimated ``s_2^2, s_3^2, ...``, largest first.
    phi : float
        The unbiased estimate of ``phi``.
    second : SecondPass
        The influence sums of the second pass over the same draws.
    m : int
        How many eigenvalues are estimated (``min(k, V - 1)``).
    k : int
        The feature dimension.
    z_score : float
        ``Phi^{-1}(1/2 + confidence/2)`` of the nominal coverage ``confidence``.
    degenerate : float
        The second-order variance term of ``phi``'s U-statistic.

    Returns
    -------
    values : ContextEstimates
        ``s_1..s_{k+1}``, ``phi``, the probe error and T2's bound, with intervals.
    bias : ndarray
        The second-order bias subtracted from each estimated eigenvalue.
    """
    n = second.n
    spectrum = _spectrum(eigenvalues, second, m=m, k=k, z_score=z_score)
    lam_k, w_mean, w_var = spectrum.last, spectrum.last_mean, spectrum.last_variance
    g_mean, g_square, g_cross = second.phi / n
    g_variance = label_worst_variance(np.asarray(second.by_label), n)
    phi_se = np.sqrt(g_variance / n + degenerate)
    error = second.wrong / n
    # Wilson's interval for a proportion: it stays honest when no draw is misclassified
    shrink = 1.0 + z_score**2 / n
    centre = (error + z_score**2 / (2 * n)) / shrink
    half = z_score * np.sqrt(error * (1 - error) / n + z_score**2 / (4 * n * n)) / shrink
    # The argmax readout is discontinuous: contexts near a tie flip with the noise of B, and
    # the error moves by their mass, which no central limit accounts for. With any draw
    # within the readout's noise of a tie, no interval is given.
    if second.unstable:
        probe = Interval(error)
    else:
        probe = Interval(error, float(centre - half), float(centre + half))
    if lam_k >= 1.0 - SLACK:
        bound = Interval(float("inf"))
    else:
        # the bound's influence combines phi's and lambda_(k+1)'s, with their covariance
        a, b = 2.0 / (1.0 - lam_k), 2.0 * phi / (1.0 - lam_k) ** 2
        var = (
            a * a * g_variance + b * b * w_var + 2 * a * b * (g_cross - g_mean * w_mean)
        ) / n + a * a * degenerate
        spread = z_score * np.sqrt(max(var, 0.0)) + SLACK
        bound = Interval(float(a * phi), float(a * phi - spread), float(a * phi + spread))
    # SLACK: a phi that no draw can move (every kernel value equal) is exact up to rounding
    phi_half = z_score * phi_se + SLACK
    values = ContextEstimates(
        singular_values=spectrum.singular_values,
        phi=Interval(phi, float(phi - phi_half), float(phi + phi_half)),
        probe_error=probe,
        bound=bound,
    )
    return values, spectrum.bias
