"""Belief geometry: how linearly a network's hidden states hold the exact posteriors
(docs/theory.md §10.6).

For every context ``(S, i, x_S)`` of an objective the source gives two exact beliefs
(:func:`lookaround.theory.conditionals.context_laws`): the class posterior ``P(z | x_S)`` and
the posterior over the class and the hidden state at the target, ``P(z, h_i | x_S)``
(filtered after a prefix; smoothed, by forward-backward, given every visible token of a
masked context). A layer's **belief R^2** is that of the weighted least-squares affine map
from the layer's states to the belief, fitted on one half of the sequences and scored on the
other (and the other way round; cross-fitted), with every context weighted by its population
mass ``P(x) w(omega)``:

``R^2 = 1 - sum_x,omega w ||y - yhat||^2 / sum_x,omega w ||y - ybar||^2``.

The sums are accumulated block by block as moments
(:class:`lookaround.simulations.crossfit.CrossFit`), so no layer of the whole population is
ever held.

Past enumeration (:func:`sampled_belief_geometry`) the contexts are a sampled evaluation's
draws, each weighted ``w(omega) / n``, and each ``R^2`` carries a 95% interval for ``R^2_*``,
the population ``R^2`` of the best affine map: from the cross-fitted estimate (biased low) to
the in-sample one (biased high), each widened by its spread over ``BELIEF_BATCHES`` batches of
draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lookaround.base.seeds import streams
from lookaround.simulations.crossfit import CrossFit
from lookaround.theory.conditionals import context_laws
from lookaround.theory.objectives import Objective
from lookaround.theory.pattern_laws import pattern_arrays
from lookaround.theory.sources import Source

__all__ = [
    "BELIEF_FOLDS",
    "BeliefFit",
    "BeliefGeometry",
    "BeliefProjection",
    "belief_bytes",
    "belief_geometry",
    "belief_projection",
    "layer_names",
    "sampled_belief_geometry",
]

BELIEF_FOLDS = 2
BELIEF_BATCHES = 20  # batches of draws whose spread gives a sampled R^2 its interval
BLOCK_SEQUENCES = 2048  # sequences read per block: bounds the layers held at once


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
    class_r2_ci, state_r2_ci : tuple of float, optional
        Sampled only: the 95% interval for ``R^2_*``, the population ``R^2`` of the best
        affine map (ends None where the targets do not vary).
    """

    layer: str
    class_r2: float
    state_r2: float
    class_r2_ci: tuple[float | None, float | None] | None = None
    state_r2_ci: tuple[float | None, float | None] | None = None


@dataclass(frozen=True)
class BeliefGeometry:
    """Every layer's belief ``R^2`` of one network on its objective's contexts.

    Attributes
    ----------
    fits : tuple of BeliefFit
        One per layer, from the embeddings up.
    contexts : int
        Contexts read (sequences times patterns), each weighted by ``P(x) w(omega)`` (by
        ``w(omega) / n`` when sampled).
    folds : int
        Folds of the cross-fitting (sequences split at random by the run's seed).
    sequences : int or None
        Held-out sequences drawn, when sampled (None: the population).
    """

    fits: tuple[BeliefFit, ...]
    contexts: int
    folds: int = BELIEF_FOLDS
    sequences: int | None = None

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


def belief_bytes(*, width: int, layers: int, features: int, outputs: int, sampled: bool) -> int:
    """Modelled peak bytes of one network's belief maps: every layer's moments, per fold (and
    per batch when sampled), and the workspace of the largest layer's fit.

    Parameters
    ----------
    width, layers : int
        The network's ``d`` and ``L``.
    features : int
        Units of its feature layer (``d``, or the bottleneck's ``K``).
    outputs : int
        Belief coordinates: ``r`` for the class and ``r H`` for the state.
    sampled : bool
        On held-out draws (``BELIEF_BATCHES`` batches of moments) or on the population (one).

    Returns
    -------
    int

    Examples
    --------
    >>> belief_bytes(width=32, layers=2, features=32, outputs=6, sampled=True) // 2**20
    3
    """
    sides = [width] * (layers + 1) + [layers * width, features]
    batches = BELIEF_BATCHES if sampled else 1
    moments = sum((p + 1) * (p + 1 + outputs) for p in sides) * BELIEF_FOLDS * batches
    return 8 * (moments + 4 * (max(sides) + 1) ** 2)  # lstsq's SVD of the largest Gram


Reader = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class _Contexts(NamedTuple):
    """The contexts a belief map reads: per sequence its patterns, their weights, its fold
    and its batch (None: one batch)."""

    tokens: np.ndarray  # (n, T)
    visible: np.ndarray  # (n, P, T)
    target: np.ndarray  # (n, P)
    weight: np.ndarray  # (n, P)
    fold: np.ndarray  # (n,)
    batch: np.ndarray | None  # (n,)


def _population(objective: Objective, tokens: np.ndarray, mass: np.ndarray, seed: int):
    """Every pattern of ``objective`` on every sequence, weighted ``P(x) w(omega)``."""
    n, length = tokens.shape
    visible, target = pattern_arrays(objective.patterns, length)
    count = target.size
    return _Contexts(tokens, np.broadcast_to(visible, (n, count, length)),
                     np.broadcast_to(target, (n, count)),
                     mass[:, None] * objective.weights[None, :], _folds(n, seed), None)  # fmt: skip


def _folds(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(streams(seed).folds).permutation(n) % BELIEF_FOLDS


def belief_geometry(
    read: Reader, source: Source, objective: Objective, tokens: np.ndarray, mass: np.ndarray,
    *, seed: int, best: bool = False,
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
    best : bool
        Give ``R^2_*`` instead, the ``R^2`` of the best affine map (fitted on the whole
        population and scored there): what a sampled interval covers.

    Returns
    -------
    BeliefGeometry
    """
    contexts = _population(objective, tokens, mass, seed)
    fits = _fits(read, source, contexts, batches=1)
    return _geometry(fits, source.n_classes, contexts, sampled=False, best=best)


def sampled_belief_geometry(
    read: Reader, source: Source, tokens: np.ndarray, *, visible: np.ndarray,
    target: np.ndarray, weights: np.ndarray, seed: int,
) -> BeliefGeometry:  # fmt: skip
    """Every layer's belief ``R^2`` on held-out draws, each with its 95% interval for ``R^2_*``.

    Parameters
    ----------
    read, source
        As :func:`belief_geometry`.
    tokens : ndarray of int, shape (n, T)
        Sequences drawn from ``source`` (a sampled evaluation's,
        :func:`lookaround.simulations.sampled.draw_evaluation`).
    visible : ndarray of bool, shape (n, J, T)
        Each sequence's patterns.
    target : ndarray of int, shape (n, J)
        Their targets.
    weights : ndarray, shape (n, J)
        Their weights, each row summing to 1.
    seed : int
        Draws the folds (the run's seed).

    Returns
    -------
    BeliefGeometry
        ``sequences`` is ``n``; every fit carries its intervals.
    """
    n = tokens.shape[0]
    batches = min(BELIEF_BATCHES, n)
    contexts = _Contexts(tokens, visible, target, weights / n, _folds(n, seed),
                         np.arange(n) * batches // n)  # fmt: skip
    fits = _fits(read, source, contexts, batches=batches)
    return _geometry(fits, source.n_classes, contexts, sampled=True)


def _fits(read: Reader, source: Source, contexts: _Contexts, batches: int) -> list[CrossFit]:
    """One fit per layer onto the beliefs side by side (class, then state)."""
    fits: list[CrossFit] = []
    for fold, weight, batch, beliefs, layers in _blocks(read, source, contexts):
        if not fits:
            fits = [CrossFit(BELIEF_FOLDS, x.shape[1], beliefs.shape[1], batches=batches)
                    for x in layers]  # fmt: skip
        for fit, x in zip(fits, layers):
            fit.add(fold, x, beliefs, weight, batch)
    return fits


def _geometry(
    fits: list[CrossFit], r: int, contexts: _Contexts, sampled: bool, best: bool = False
) -> BeliefGeometry:
    """Each layer's ``R^2`` onto the class columns (the first ``r``) and the state ones."""
    names = layer_names(len(fits) - 3)
    out = []
    for name, fit in zip(names, fits):
        if not sampled:
            r2 = fit.in_sample_r2 if best else fit.r2
            out.append(BeliefFit(name, r2(slice(0, r)), r2(slice(r, None))))
            continue
        c, s = fit.interval(slice(0, r)), fit.interval(slice(r, None))
        out.append(BeliefFit(name, c.estimate, s.estimate, (c.low, c.high), (s.low, s.high)))
    n, count = contexts.target.shape
    return BeliefGeometry(tuple(out), n * count, sequences=n if sampled else None)


def _blocks(read: Reader, source: Source, contexts: _Contexts):
    """Per block of sequences: each context's fold, weight, batch, exact beliefs (class and
    state side by side) and layers."""
    n, count, length = contexts.visible.shape
    for start in range(0, n, BLOCK_SEQUENCES):
        rows = slice(start, min(start + BLOCK_SEQUENCES, n))
        block, size = contexts.tokens[rows], rows.stop - rows.start
        vis, tgt = contexts.visible[rows], contexts.target[rows]
        laws = context_laws(source, np.repeat(block, count, axis=0),
                            visible=vis.reshape(-1, length), target=tgt.reshape(-1))  # fmt: skip
        residual, features = read(block, vis, tgt)
        layers = _layers(residual.reshape(size * count, *residual.shape[2:]),
                         features.reshape(size * count, -1))  # fmt: skip
        batch = None if contexts.batch is None else np.repeat(contexts.batch[rows], count)
        yield (np.repeat(contexts.fold[rows], count), contexts.weight[rows].reshape(-1), batch,
               np.hstack([laws.classes, laws.states.reshape(size * count, -1)]), layers)  # fmt: skip


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
    r, contexts = source.n_classes, _population(objective, tokens, mass, seed)
    pick = None
    fit: CrossFit | None = None
    for fold, weight, _, beliefs, layers in _blocks(read, source, contexts):
        if pick is None:
            pick = layer_names(len(layers) - 3).index(layer)
            fit = CrossFit(BELIEF_FOLDS, layers[pick].shape[1], beliefs.shape[1] - r)
        assert fit is not None
        fit.add(fold, layers[pick], beliefs[:, r:], weight)
    assert fit is not None and pick is not None
    top = np.sort(np.argsort(-mass, kind="stable")[:shown])
    picked = _Contexts(contexts.tokens[top], contexts.visible[top], contexts.target[top],
                       contexts.weight[top], contexts.fold[top], None)  # the population's folds  # fmt: skip
    parts = [(beliefs[:, r:], layers[pick], weight, fold)
             for fold, weight, _, beliefs, layers in _blocks(read, source, picked)]  # fmt: skip
    exact, states, weights, folds = (np.concatenate(p) for p in zip(*parts))
    design = np.hstack([states, np.ones((states.shape[0], 1))])
    fitted = np.einsum("md,mdg->mg", design, fit.coefficients()[folds])
    return BeliefProjection(layer, exact, fitted, weights, fit.r2())


def _layers(residual: np.ndarray, features: np.ndarray) -> list[np.ndarray]:
    """Each layer's states (m, .): the embeddings, each block, the blocks side by side, and
    the features."""
    blocks = residual[:, 1:].reshape(residual.shape[0], -1)
    return [*(residual[:, b] for b in range(residual.shape[1])), blocks, features]
