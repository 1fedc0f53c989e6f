"""The linear read-outs of features against the Bayes labels: the ``P(x)``-weighted
least-squares probe (theory's T2') and the weighted principal directions a practitioner's PCA
keeps (docs/theory.md §10.2, §10.5)."""

from __future__ import annotations

import numpy as np

from lookaround.theory.marginals import bayes_labels

__all__ = ["STATES_RCOND", "principal_directions", "weighted_probe_error"]


# A network's hidden states are float32: directions of the weighted design below this share
# of its largest singular value are their rounding, not signal. LayerNorm makes the states
# and the intercept collinear (a singular value 3e-9 to 1e-8 of the largest on the markov
# preset, the next 7e-4 to 3e-3), and least squares that keeps that direction gave probe
# errors that moved by up to 0.02 under a relative perturbation of 1e-7 of the states, and
# between JAX releases; cut at any share from 1e-7 to 1e-5 they do not move.
STATES_RCOND = 1e-6


def weighted_probe_error(
    features: np.ndarray,
    class_joint: np.ndarray,
    *,
    intercept: bool = False,
    rcond: float | None = None,
) -> float:
    """Error of the ``P(x)``-weighted least-squares probe on ``features``, read by argmax.

    The targets are the one-hot Bayes labels ``y(x)``; the error is the ``P(x)`` mass where
    the argmax (the Bayes tie rule) differs from ``y(x)``.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Features of every sequence.
    class_joint : ndarray, shape (n, r)
        ``P(z, x)``.
    intercept : bool
        Fit an intercept too.
    rcond : float, optional
        Directions of the weighted design whose singular value is below this share of the
        largest are dropped (``numpy.linalg.lstsq``'s cutoff; its default, machine precision,
        when None). :data:`STATES_RCOND` for a network's float32 states.

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    >>> pz = np.array([[0.3, 0.0], [0.0, 0.3], [0.4, 0.0]])
    >>> weighted_probe_error(x, pz)
    0.0
    """
    mass = class_joint.sum(axis=1)
    labels = bayes_labels(class_joint)
    design = np.hstack([features, np.ones((features.shape[0], 1))]) if intercept else features
    root = np.sqrt(mass)[:, None]
    onehot = np.eye(class_joint.shape[1])[labels]
    weights = np.linalg.lstsq(root * design, root * onehot, rcond=rcond)[0]
    wrong = bayes_labels(design @ weights) != labels
    return float(mass[wrong].sum())


def principal_directions(features: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """The ``mass``-weighted principal directions of ``features``, by explained variance.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Features of every sequence.
    mass : ndarray, shape (n,)
        Their weights (``P(x)``).

    Returns
    -------
    ndarray, shape (d, min(n, d))
        Columns in order of decreasing weighted variance; ``features @ out[:, :k]`` are the
        top-``k`` principal components (up to the mean, which a probe's intercept absorbs).

    Examples
    --------
    >>> x = np.array([[0.0, 1.0], [2.0, -1.0], [4.0, -1.0], [6.0, 1.0]])
    >>> np.abs(principal_directions(x, np.full(4, 0.25))).round(12).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    centred = features - mass @ features / mass.sum()
    return np.linalg.svd(np.sqrt(mass)[:, None] * centred, full_matrices=False)[2].T
