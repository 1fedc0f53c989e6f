"""The linear read-outs of features against the Bayes labels: the ``P(x)``-weighted
least-squares probe (theory's T2') and the weighted principal directions a practitioner's PCA
keeps (docs/theory.md §10.2, §10.5)."""

from __future__ import annotations

import numpy as np

from lookaround.theory.marginals import bayes_labels

__all__ = ["principal_directions", "weighted_probe_error"]


def weighted_probe_error(
    features: np.ndarray, class_joint: np.ndarray, *, intercept: bool = False
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
    weights = np.linalg.lstsq(root * design, root * onehot, rcond=None)[0]
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
