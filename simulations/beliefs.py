"""Belief geometry: how linearly a network's hidden states hold the exact posteriors
(docs/theory.md §10.5).

For every context ``(S, i, x_S)`` of an objective the source gives two exact beliefs
(:func:`lookaround.theory.conditionals.context_laws`): the class posterior ``P(z | x_S)`` and
the posterior over the class and the hidden state at the target, ``P(z, h_i | x_S)``
(filtered after a prefix; smoothed, by forward-backward, given every visible token of a
masked context). A layer's **belief R^2** is that of the weighted least-squares affine map
from the layer's states to the belief, fitted on one half of the sequences and scored on the
other (and the other way round; cross-fitted), with every context weighted by its population
mass ``P(x) w(omega)``:

``R^2 = 1 - sum_x,omega w ||y - yhat||^2 / sum_x,omega w ||y - ybar||^2``.

The sums are accumulated block by block as moments (``X'WX``, ``X'WY``, ``Y'WY``), so no layer
of the whole population is ever held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lookaround.base.seeds import streams
from lookaround.theory.conditionals import context_laws
from lookaround.theory.objectives import Objective, pattern_arrays
from lookaround.theory.sources import Source

__all__ = [
    "BELIEF_FOLDS",
    "BeliefFit",
    "BeliefGeometry",
    "CrossFit",
    "belief_geometry",
    "cross_fitted_r2",
    "layer_names",
]

BELIEF_FOLDS = 2
BLOCK_SEQUENCES = 2048  # sequences read per block: bounds the layers held at once
RCOND = 1e-10  # directions of X'WX below this fraction of its largest are left out of a fit


class CrossFit:
    """Weighted moments of a multi-output regression, per fold, and its cross-fitted ``R^2``.

    Parameters
    ----------
    folds : int
        Folds of the cross-fitting.
    inputs, outputs : int
        Columns of the features (an intercept is added) and of the targets.

    Examples
    --------
    >>> x = np.arange(8.0)[:, None]
    >>> fit = CrossFit(2, 1, 1)
    >>> fit.add(np.arange(8) % 2, x, 3 * x + 1, np.full(8, 0.125))
    >>> round(fit.r2(), 12)
    1.0
    """

    def __init__(self, folds: int, inputs: int, outputs: int) -> None:
        self.gram = np.zeros((folds, inputs + 1, inputs + 1))
        self.cross = np.zeros((folds, inputs + 1, outputs))
        self.square = np.zeros(folds)  # sum w ||y||^2
        self.mass = np.zeros(folds)
        self.mean = np.zeros((folds, outputs))  # sum w y

    def add(self, fold: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        """Add rows ``x`` (m, inputs), ``y`` (m, outputs) of weights ``w`` to their folds."""
        design = np.hstack([x, np.ones((x.shape[0], 1))])
        for f in range(self.gram.shape[0]):
            rows = fold == f
            d, t, v = design[rows], y[rows], w[rows]
            self.gram[f] += (d * v[:, None]).T @ d
            self.cross[f] += (d * v[:, None]).T @ t
            self.square[f] += float(v @ np.sum(t * t, axis=1))
            self.mass[f] += v.sum()
            self.mean[f] += v @ t

    def r2(self) -> float:
        """The cross-fitted ``R^2`` (nan where the targets do not vary: nothing to explain)."""
        mass, mean = self.mass.sum(), self.mean.sum(axis=0)
        total = self.square.sum() - float(mean @ mean) / mass
        if total <= 1e-12 * max(self.square.sum(), 1e-300):
            return float("nan")
        error = 0.0
        for f in range(self.gram.shape[0]):
            rest = np.arange(self.gram.shape[0]) != f
            beta = np.linalg.lstsq(self.gram[rest].sum(axis=0), self.cross[rest].sum(axis=0),
                                   rcond=RCOND)[0]  # fmt: skip
            error += (self.square[f] - 2 * np.sum(beta * self.cross[f])
                      + np.sum(beta * (self.gram[f] @ beta)))  # fmt: skip
        return float(1.0 - error / total)


def cross_fitted_r2(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, fold: np.ndarray, *, folds: int = BELIEF_FOLDS
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


@dataclass(frozen=True)
class BeliefFit:
    """The belief ``R^2`` of one layer.

    Attributes
    ----------
    layer : str
        ``embedding``, ``block 1`` .. ``block L`` (the residual stream after each block),
        ``blocks`` (every block's output side by side) or ``features`` (what the head and
        the probes read).
    class_r2 : float
        Onto ``P(z | x_S)`` (nan for a one-class source: the posterior does not vary).
    state_r2 : float
        Onto ``P(z, h_i | x_S)``, or its grouping when one is given.
    """

    layer: str
    class_r2: float
    state_r2: float


@dataclass(frozen=True)
class BeliefGeometry:
    """Every layer's belief ``R^2`` of one network on its objective's contexts.

    Attributes
    ----------
    fits : tuple of BeliefFit
        One per layer, from the embeddings up.
    contexts : int
        Contexts read (sequences times patterns), each weighted by ``P(x) w(omega)``.
    folds : int
        Folds of the cross-fitting (sequences split at random by the run's seed).
    """

    fits: tuple[BeliefFit, ...]
    contexts: int
    folds: int = BELIEF_FOLDS

    def at(self, layer: str) -> BeliefFit:
        """The fit of ``layer``."""
        return next(f for f in self.fits if f.layer == layer)


def layer_names(layers: int) -> tuple[str, ...]:
    """The layers a belief map reads, for a network of ``layers`` blocks.

    Parameters
    ----------
    layers : int
        Blocks ``L``.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> layer_names(2)
    ('embedding', 'block 1', 'block 2', 'blocks', 'features')
    """
    return ("embedding", *(f"block {b}" for b in range(1, layers + 1)), "blocks", "features")


Reader = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def belief_geometry(
    read: Reader, source: Source, objective: Objective, tokens: np.ndarray, mass: np.ndarray,
    *, seed: int, groups: np.ndarray | None = None,
) -> BeliefGeometry:  # fmt: skip
    """Every layer's belief ``R^2`` over the population's contexts, population-exact.

    Parameters
    ----------
    read : callable
        ``read(tokens (n, T), visible (n, P, T), target (n, P))`` → the residual stream
        (n, P, L + 1, d) and the features (n, P, f) at each context
        (:func:`lookaround.simulations.transformer.context_layers` of a trained network).
    source : Source
        The source, whose model gives the exact beliefs.
    objective : Objective
        The objective: its patterns are the contexts, its ``w`` their weights.
    tokens : ndarray of int, shape (n, T)
        Every sequence of positive mass (:func:`lookaround.simulations.pretrain.population`).
    mass : ndarray, shape (n,)
        ``P(x)`` of each.
    seed : int
        Draws the folds (the run's seed).
    groups : ndarray, shape (H, G), optional
        Sums hidden states into the states a belief is read over (Mess3's edge states into
        its process states, :data:`lookaround.theory.families.MESS3_STATES`).

    Returns
    -------
    BeliefGeometry
    """
    n, length = tokens.shape
    visible, target = pattern_arrays(objective.patterns, length)
    count = len(objective.patterns)
    fold = np.random.default_rng(streams(seed).folds).permutation(n) % BELIEF_FOLDS
    fits: list[tuple[CrossFit, CrossFit]] = []
    for start in range(0, n, BLOCK_SEQUENCES):
        rows = slice(start, min(start + BLOCK_SEQUENCES, n))
        block, size = tokens[rows], rows.stop - rows.start
        vis = np.broadcast_to(visible, (size, *visible.shape))
        tgt = np.broadcast_to(target, (size, count))
        laws = context_laws(source, np.repeat(block, count, axis=0),
                            visible=vis.reshape(-1, length), target=tgt.reshape(-1))  # fmt: skip
        states = laws.states if groups is None else laws.states @ groups
        targets = (laws.classes, states.reshape(size * count, -1))
        residual, features = read(block, vis, tgt)
        layers = _layers(residual.reshape(size * count, *residual.shape[2:]),
                         features.reshape(size * count, -1))  # fmt: skip
        w = (mass[rows, None] * objective.weights[None, :]).reshape(-1)
        f = np.repeat(fold[rows], count)
        if not fits:
            fits = [tuple(CrossFit(BELIEF_FOLDS, x.shape[1], y.shape[1]) for y in targets)
                    for x in layers]  # type: ignore[misc]  # fmt: skip
        for (class_fit, state_fit), x in zip(fits, layers):
            class_fit.add(f, x, targets[0], w)
            state_fit.add(f, x, targets[1], w)
    names = layer_names(len(fits) - 3)
    return BeliefGeometry(
        tuple(BeliefFit(name, c.r2(), s.r2()) for name, (c, s) in zip(names, fits)), n * count
    )


def _layers(residual: np.ndarray, features: np.ndarray) -> list[np.ndarray]:
    """Each layer's states (m, .): the embeddings, each block, the blocks side by side, and
    the features."""
    blocks = residual[:, 1:].reshape(residual.shape[0], -1)
    return [*(residual[:, b] for b in range(residual.shape[1])), blocks, features]
