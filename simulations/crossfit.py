"""Weighted multi-output least squares held as moments: cross-fitted ``R^2`` and its interval
(docs/theory.md §10.6).

Rows are added block by block as moments (``X'WX``, ``X'WY``, ``sum w y_j^2``, ``sum w y``),
one set per fold and per batch, so no design matrix is ever held whole. The affine map of
fold ``f`` is fitted on every other fold and scored on ``f`` (cross-fitted); the map fitted
on every fold and scored on every fold is the **in-sample** fit, which on a whole population
is the population's best affine map, ``R^2_*``.

Past a population the rows are draws and ``R^2_*`` is estimated. The cross-fitted ``R^2``
of the draws is biased low (each map is scored where it was not fitted) and the in-sample one
biased high (each map is scored where it was fitted), so the interval brackets ``R^2_*``
between the two: from the cross-fitted estimate less its half-width to the in-sample estimate
plus its own, each the ratio's delta-method width over batches of independent draws with a
``t`` quantile of ``batches - 1`` degrees of freedom. Either end misses with probability at
most ``(1 - confidence) / 2``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import t as student

from lookaround.theory.intervals import Interval

__all__ = ["CONFIDENCE", "RCOND", "CrossFit", "cross_fitted_r2"]

CONFIDENCE = 0.95
RCOND = 1e-10  # directions of X'WX below this fraction of its largest are left out of a fit


class CrossFit:
    """Weighted moments of a multi-output affine regression, per batch and fold.

    Parameters
    ----------
    folds : int
        Folds of the cross-fitting.
    inputs, outputs : int
        Columns of the features (an intercept is added) and of the targets.
    batches : int
        Batches of independent rows whose spread gives the interval (1: no interval).

    Examples
    --------
    >>> x = np.arange(8.0)[:, None]
    >>> fit = CrossFit(2, 1, 1)
    >>> fit.add(np.arange(8) % 2, x, 3 * x + 1, np.full(8, 0.125))
    >>> round(fit.r2(), 12), round(fit.in_sample_r2(), 12)
    (1.0, 1.0)
    """

    def __init__(self, folds: int, inputs: int, outputs: int, *, batches: int = 1) -> None:
        self.gram = np.zeros((batches, folds, inputs + 1, inputs + 1))
        self.cross = np.zeros((batches, folds, inputs + 1, outputs))
        self.square = np.zeros((batches, folds, outputs))  # sum w y_j^2
        self.mass = np.zeros((batches, folds))
        self.total = np.zeros((batches, folds, outputs))  # sum w y
        self._maps: dict[str, np.ndarray] = {}  # fitted maps, until rows are added again

    def add(
        self, fold: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray,
        batch: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        """Add rows ``x`` (m, inputs), ``y`` (m, outputs) of weights ``w`` to their folds
        (and batches: all in batch 0 when None)."""
        self._maps.clear()
        design = np.hstack([x, np.ones((x.shape[0], 1))])
        batch = np.zeros(x.shape[0], dtype=int) if batch is None else batch
        for b in np.unique(batch):
            for f in range(self.gram.shape[1]):
                rows = (fold == f) & (batch == b)
                d, t, v = design[rows], y[rows], w[rows]
                self.gram[b, f] += (d * v[:, None]).T @ d
                self.cross[b, f] += (d * v[:, None]).T @ t
                self.square[b, f] += v @ (t * t)
                self.mass[b, f] += v.sum()
                self.total[b, f] += v @ t

    def coefficients(self) -> np.ndarray:
        """Each fold's map, fitted on every other fold: shape (folds, inputs + 1, outputs),
        the intercept last."""
        if "folds" not in self._maps:  # one fit serves every column set read from it
            gram, cross = self.gram.sum(axis=0), self.cross.sum(axis=0)
            folds = np.arange(gram.shape[0])
            self._maps["folds"] = np.stack([np.linalg.lstsq(gram[folds != f].sum(axis=0),
                                                            cross[folds != f].sum(axis=0),
                                                            rcond=RCOND)[0] for f in folds])  # fmt: skip
        return self._maps["folds"]

    def _pooled(self) -> np.ndarray:
        """The map fitted on every fold, repeated per fold (folds, inputs + 1, outputs)."""
        if "pooled" not in self._maps:
            beta = np.linalg.lstsq(self.gram.sum(axis=(0, 1)), self.cross.sum(axis=(0, 1)),
                                   rcond=RCOND)[0]  # fmt: skip
            self._maps["pooled"] = np.broadcast_to(beta, self.cross.shape[1:])
        return self._maps["pooled"]

    def _errors(self, beta: np.ndarray, columns: slice) -> np.ndarray:
        """``sum w ||y - x beta_f||^2`` over the ``columns`` of each batch, fold ``f`` read
        through ``beta[f]``: shape (batches,)."""
        b = beta[:, :, columns]
        square = self.square[:, :, columns].sum(axis=2)
        cross = np.einsum("fpo,bfpo->bf", b, self.cross[:, :, :, columns])
        quad = np.einsum("fpo,bfpq,fqo->bf", b, self.gram, b)
        return (square - 2 * cross + quad).sum(axis=1)

    def _variation(self, columns: slice) -> np.ndarray | None:
        """``sum w ||y - ybar||^2`` over the ``columns`` of each batch (ybar: all rows'
        mean), or None when the targets do not vary: nothing to explain."""
        mass, total = self.mass.sum(axis=1), self.total[:, :, columns].sum(axis=1)
        mean = total.sum(axis=0) / mass.sum()
        square = self.square[:, :, columns].sum(axis=(1, 2))
        variation = square - 2 * total @ mean + mass * float(mean @ mean)
        if variation.sum() <= 1e-12 * max(square.sum(), 1e-300):
            return None
        return variation

    def r2(self, columns: slice = slice(None)) -> float:
        """The cross-fitted ``R^2`` of the ``columns`` (nan where they do not vary)."""
        return self._ratio(self.coefficients(), columns)[0]

    def in_sample_r2(self, columns: slice = slice(None)) -> float:
        """The in-sample ``R^2`` of the ``columns``: on a population, ``R^2_*``."""
        return self._ratio(self._pooled(), columns)[0]

    def interval(self, columns: slice = slice(None), confidence: float = CONFIDENCE) -> Interval:
        """The cross-fitted ``R^2`` of the ``columns`` with the interval that brackets
        ``R^2_*`` (ends None with fewer than two batches or targets that do not vary)."""
        low, low_half = self._ratio(self.coefficients(), columns)
        high, high_half = self._ratio(self._pooled(), columns)
        if np.isnan(low_half) or np.isnan(high_half):
            return Interval(low)
        quantile = float(student.ppf(0.5 + confidence / 2, self.gram.shape[0] - 1))
        return Interval(low, low - quantile * low_half, high + quantile * high_half)

    def _ratio(self, beta: np.ndarray, columns: slice) -> tuple[float, float]:
        """``1 - error / variation`` and the delta-method standard error of the ratio over
        batches (nan with one batch)."""
        variation = self._variation(columns)
        if variation is None:
            return float("nan"), float("nan")
        errors = self._errors(beta, columns)
        ratio = errors.sum() / variation.sum()
        batches = errors.size
        if batches < 2:
            return float(1 - ratio), float("nan")
        spread = np.sqrt(batches / (batches - 1) * np.sum((errors - ratio * variation) ** 2))
        return float(1 - ratio), float(spread / variation.sum())


def cross_fitted_r2(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, fold: np.ndarray, *, folds: int = 2
) -> float:
    """The cross-fitted weighted ``R^2`` of the affine map from ``x`` to ``y``, in one call.

    Parameters
    ----------
    x : ndarray, shape (m, inputs)
        Features of each row.
    y : ndarray, shape (m, outputs)
        Targets of each row.
    w : ndarray, shape (m,)
        Weights.
    fold : ndarray of int, shape (m,)
        The fold of each row, ``0..folds-1``.
    folds : int
        Folds.

    Returns
    -------
    float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> beliefs = rng.dirichlet(np.ones(3), 50)  # the targets themselves as features
    >>> round(cross_fitted_r2(beliefs, beliefs, np.full(50, 0.02), np.arange(50) % 2), 9)
    1.0
    """
    fit = CrossFit(folds, x.shape[1], y.shape[1])
    fit.add(fold, x, y, w)
    return fit.r2()
