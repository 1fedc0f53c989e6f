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
    "BeliefProjection",
    "CrossFit",
    "belief_geometry",
    "belief_projection",
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

    def coefficients(self) -> np.ndarray:
        """Each fold's map, fitted on every other fold: shape (folds, inputs + 1, outputs),
        the intercept last."""
        folds = np.arange(self.gram.shape[0])
        return np.stack([np.linalg.lstsq(self.gram[folds != f].sum(axis=0),
                                         self.cross[folds != f].sum(axis=0), rcond=RCOND)[0]
                         for f in folds])  # fmt: skip

    def r2(self) -> float:
        """The cross-fitted ``R^2`` (nan where the targets do not vary: nothing to explain)."""
        mass, mean = self.mass.sum(), self.mean.sum(axis=0)
        total = self.square.sum() - float(mean @ mean) / mass
        if total <= 1e-12 * max(self.square.sum(), 1e-300):
            return float("nan")
        error = 0.0
        for f, beta in enumerate(self.coefficients()):
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
        Onto ``P(z, h_i | x_S)``.
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
    *, seed: int,
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

    Returns
    -------
    BeliefGeometry
    """
    fits: list[tuple[CrossFit, CrossFit]] = []
    for f, w, targets, layers in _contexts(read, source, objective, tokens, mass, seed):
        if not fits:
            fits = [(CrossFit(BELIEF_FOLDS, x.shape[1], targets[0].shape[1]),
                     CrossFit(BELIEF_FOLDS, x.shape[1], targets[1].shape[1])) for x in layers]  # fmt: skip
        for (class_fit, state_fit), x in zip(fits, layers):
            class_fit.add(f, x, targets[0], w)
            state_fit.add(f, x, targets[1], w)
    names = layer_names(len(fits) - 3)
    return BeliefGeometry(
        tuple(BeliefFit(name, c.r2(), s.r2()) for name, (c, s) in zip(names, fits)),
        tokens.shape[0] * len(objective.patterns),
    )


def _contexts(read: Reader, source: Source, objective: Objective, tokens: np.ndarray,
              mass: np.ndarray, seed: int):  # fmt: skip
    """Per block of sequences: each context's fold, weight, exact beliefs (class, state) and
    layers."""
    n, length = tokens.shape
    visible, target = pattern_arrays(objective.patterns, length)
    count = len(objective.patterns)
    fold = np.random.default_rng(streams(seed).folds).permutation(n) % BELIEF_FOLDS
    for start in range(0, n, BLOCK_SEQUENCES):
        rows = slice(start, min(start + BLOCK_SEQUENCES, n))
        block, size = tokens[rows], rows.stop - rows.start
        vis = np.broadcast_to(visible, (size, *visible.shape))
        tgt = np.broadcast_to(target, (size, count))
        laws = context_laws(source, np.repeat(block, count, axis=0),
                            visible=vis.reshape(-1, length), target=tgt.reshape(-1))  # fmt: skip
        residual, features = read(block, vis, tgt)
        layers = _layers(residual.reshape(size * count, *residual.shape[2:]),
                         features.reshape(size * count, -1))  # fmt: skip
        yield (np.repeat(fold[rows], count),
               (mass[rows, None] * objective.weights[None, :]).reshape(-1),
               (laws.classes, laws.states.reshape(size * count, -1)), layers)  # fmt: skip


@dataclass(frozen=True, eq=False)
class BeliefProjection:
    """One layer's states mapped onto the belief simplex, beside the exact beliefs.

    Attributes
    ----------
    layer : str
        The layer read.
    exact : ndarray, shape (m, G)
        ``P(z, h_i | x_S)`` of each context shown.
    fitted : ndarray, shape (m, G)
        The affine map's image of the layer's states there, each context mapped by the fit
        of the other fold (out of sample).
    weights : ndarray, shape (m,)
        ``P(x) w(omega)`` of each.
    r2 : float
        The cross-fitted ``R^2`` over the whole population.
    """

    layer: str
    exact: np.ndarray
    fitted: np.ndarray
    weights: np.ndarray
    r2: float


def belief_projection(
    read: Reader, source: Source, objective: Objective, tokens: np.ndarray, mass: np.ndarray,
    *, seed: int, layer: str, shown: int = 2000,
) -> BeliefProjection:  # fmt: skip
    """The state belief map of one ``layer``, fitted on the population, applied to the contexts
    of ``shown`` sequences (those of largest ``P(x)``): what a belief-simplex figure draws.

    Parameters
    ----------
    read, source, objective, tokens, mass, seed
        As :func:`belief_geometry`.
    layer : str
        One of :func:`layer_names`.
    shown : int
        Sequences whose contexts are returned.

    Returns
    -------
    BeliefProjection
    """
    pick = None
    fit: CrossFit | None = None
    for f, w, targets, layers in _contexts(read, source, objective, tokens, mass, seed):
        if pick is None:
            pick = layer_names(len(layers) - 3).index(layer)
            fit = CrossFit(BELIEF_FOLDS, layers[pick].shape[1], targets[1].shape[1])
        assert fit is not None
        fit.add(f, layers[pick], targets[1], w)
    assert fit is not None and pick is not None
    top = np.sort(np.argsort(-mass, kind="stable")[:shown])
    fold = np.repeat(np.random.default_rng(streams(seed).folds).permutation(tokens.shape[0])[top]
                     % BELIEF_FOLDS, len(objective.patterns))  # the population's folds  # fmt: skip
    parts = [(targets[1], layers[pick], w) for _, w, targets, layers
             in _contexts(read, source, objective, tokens[top], mass[top], seed)]  # fmt: skip
    exact, states, weights = (np.concatenate(p) for p in zip(*parts))
    design = np.hstack([states, np.ones((states.shape[0], 1))])
    fitted = np.einsum("md,mdg->mg", design, fit.coefficients()[fold])
    return BeliefProjection(layer, exact, fitted, weights, fit.r2())


def _layers(residual: np.ndarray, features: np.ndarray) -> list[np.ndarray]:
    """Each layer's states (m, .): the embeddings, each block, the blocks side by side, and
    the features."""
    blocks = residual[:, 1:].reshape(residual.shape[0], -1)
    return [*(residual[:, b] for b in range(residual.shape[1])), blocks, features]
