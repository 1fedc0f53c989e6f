"""Tabular models: a free vector ``f(c)`` per context and ``g(t)`` per target, dimension ``k``.

Trained full-batch on the empirical co-occurrence of sampled pairs, on the spectral loss of
T1 or on softmax cross-entropy with a target bias. The empirical co-occurrence is the sample
average, so full-batch descent on it is exactly empirical-risk minimization on the draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.seeds import streams
from lookaround.simulations.data import PatternDraws, dense_context_ids
from lookaround.simulations.models import Readout, adam_step, check_loss, predictive
from lookaround.theory.bounds import optimal_factors
from lookaround.theory.cooccurrence import context_offsets, visible_index
from lookaround.theory.numerics import log_softmax, normalize
from lookaround.theory.objectives import Objective, Pattern

__all__ = [
    "MAX_DENSE_CONTEXTS",
    "TabularModel",
    "empirical_cooccurrence",
    "exact_spectral_model",
    "fit_tabular",
    "train_cross_entropy",
    "train_spectral",
]

MAX_DENSE_CONTEXTS = 2_000_000


@dataclass(frozen=True, eq=False)
class TabularModel:
    """Learned tables over the dense context index of ``objective``.

    Attributes
    ----------
    objective : Objective
    vocab : int
    f : ndarray, shape (n_contexts, k)
        Context features; rows of contexts never drawn are 0.
    g : ndarray, shape (V, k)
    bias : ndarray, shape (V,)
        Target bias (cross-entropy); zeros for the spectral loss.
    loss : {"spectral", "ce"}
    target_mass : ndarray, shape (V,)
        Empirical ``P_t``, used to read a spectral model as ``P(t|c) ~ P_t f(c).g(t)``.
    curve : ndarray
        Training loss (empirical) at each logged step.
    """

    objective: Objective
    vocab: int
    f: np.ndarray
    g: np.ndarray
    bias: np.ndarray
    loss: str
    target_mass: np.ndarray
    curve: np.ndarray

    def features(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """``f(c)`` for the contexts ``(pattern, x_S)`` of each row; 0 off the objective."""
        try:
            j = self.objective.patterns.index(pattern)
        except ValueError:
            return np.zeros((tokens.shape[0], self.f.shape[1]))
        start = context_offsets(self.objective, self.vocab)[j]
        return self.f[start + visible_index(pattern.visible, tokens, self.vocab)]

    def conditional(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """The model's ``P(x_i = . | x_S)``, shape (n, V); see :func:`predictive`."""
        return predictive(
            self.features(pattern, tokens),
            self.g,
            self.bias,
            loss=self.loss,
            target_mass=self.target_mass,
        )

    @property
    def readout(self) -> Readout:
        """``g`` and the bias (zeros for the spectral loss)."""
        return Readout(self.g, self.bias)


def empirical_cooccurrence(draws: PatternDraws, vocab: int) -> np.ndarray:
    """``Ahat[c, t]``: the fraction of draws with context ``c`` and target ``t`` (dense).

    Parameters
    ----------
    draws : PatternDraws
    vocab : int

    Returns
    -------
    ndarray, shape (contexts, V)
    """
    total = int(context_offsets(draws.objective, vocab)[-1])
    if total > MAX_DENSE_CONTEXTS:
        raise InputError(
            f"model 'tabular' would hold {total} contexts, over {MAX_DENSE_CONTEXTS}; use 'shared'",
            field="model",
        )
    counts = np.zeros((total, vocab))
    np.add.at(counts, (dense_context_ids(draws, vocab), draws.targets), 1.0)
    return counts / draws.tokens.shape[0]


def _init(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return 0.1 * rng.normal(size=shape)


def _balanced_init(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A start of Frobenius norm about ``0.1 sqrt(k)`` however many rows: gradient flow keeps
    ``F^T F - G^T G`` fixed, so a start whose norm grew with the number of contexts left the
    factors unbalanced for good and descent crawling (a gap of 0.04 after 3,000 steps on 1,280
    contexts, 1.8 on 38,880; now below 1e-14 on both)."""
    return _init(rng, shape) / np.sqrt(shape[0])


MAX_HALVINGS = 60  # a step below lr / 2^60 changes no float64 factor: the loss is stationary


def train_spectral(
    a: np.ndarray, k: int, *, steps: int, lr: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch gradient descent on ``||Abar - F G^T||^2 - ||Abar||^2`` (T1's loss), with a
    backtracking step that never raises the loss.

    Descent runs in the normalized coordinates ``F = D_c^{1/2} f``, ``G = D_t^{1/2} g`` where the
    loss is a plain matrix factorization; it returns ``f, g`` and the loss curve. The largest
    stable step shrinks as the factors grow (about ``1 / (2 (||F||^2 + ||G||^2))``), and a random
    start's ``||F||^2`` grows with the number of contexts, so no fixed ``lr`` suits every source:
    a step that would raise the loss is halved until it does not, and a halved step doubles back
    toward ``lr`` after each accepted one. Where ``lr`` descends at every step the iterates are
    plain gradient descent's.

    Parameters
    ----------
    a : ndarray, shape (contexts, V)
        The empirical co-occurrence.
    k : int
    steps : int
    lr : float
    seed : int

    Returns
    -------
    f, g, curve : ndarray

    Examples
    --------
    >>> a = np.random.default_rng(0).dirichlet(np.ones(3), size=2000) / 2000
    >>> curve = train_spectral(a, 2, steps=50, lr=10.0, seed=0)[2]
    >>> bool(np.all(np.diff(curve) <= 1e-12 * np.abs(curve[1:]).max()))
    True
    """
    normalized, left, right = normalize(a)
    rows = np.flatnonzero(left > 0)
    abar, left = normalized[rows], left[rows]
    rng = np.random.default_rng(streams(seed).init)
    big_f, big_g = _balanced_init(rng, (rows.size, k)), _balanced_init(rng, (a.shape[1], k))
    base = float(np.sum(abar**2))
    residual = abar - big_f @ big_g.T
    value, step_size = float(np.sum(residual**2)), lr
    curve = np.empty(steps)
    for step in range(steps):
        curve[step] = value - base
        big_f, big_g, residual, value, step_size = _descend(
            abar, (big_f, big_g), residual, value, step_size
        )
        step_size = min(lr, 2 * step_size)
    f = np.zeros((a.shape[0], k))
    f[rows] = big_f * left[:, None]
    return f, big_g * right[:, None], curve


def _descend(
    abar: np.ndarray,
    factors: tuple[np.ndarray, np.ndarray],
    residual: np.ndarray,
    value: float,
    step_size: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """One gradient step of the largest ``step_size / 2^j`` that does not raise the loss
    ``value = ||residual||^2`` beyond rounding; the factors unchanged if none does."""
    big_f, big_g = factors
    down_f, down_g = residual @ big_g, residual.T @ big_f
    for _ in range(MAX_HALVINGS):
        # an overflowing trial step is rejected below like any other rise
        with np.errstate(over="ignore", invalid="ignore"):
            new_f, new_g = big_f + 2 * step_size * down_f, big_g + 2 * step_size * down_g
            new_residual = abar - new_f @ new_g.T
            new_value = float(np.sum(new_residual**2))
        # a rise within rounding is stationarity, not instability; NaN compares False
        if new_value <= value * (1 + 1e-12):
            return new_f, new_g, new_residual, new_value, step_size
        step_size /= 2
    return big_f, big_g, residual, value, step_size


def train_cross_entropy(
    a: np.ndarray, k: int, *, steps: int, lr: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch Adam on ``-sum Ahat[c,t] log softmax(f(c).g + b)_t``; returns f, g, b, curve.

    Parameters
    ----------
    a : ndarray, shape (contexts, V)
        The empirical co-occurrence.
    k : int
    steps : int
    lr : float
    seed : int

    Returns
    -------
    f, g, bias, curve : ndarray
    """
    p_c = a.sum(axis=1)
    rows = np.flatnonzero(p_c > 0)
    sub = a[rows]
    rng = np.random.default_rng(streams(seed).init)
    params = [_init(rng, (rows.size, k)), _init(rng, (a.shape[1], k)), np.zeros(a.shape[1])]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    curve = np.empty(steps)
    for step in range(steps):
        f, g, b = params
        log_p = log_softmax(f @ g.T + b)
        curve[step] = float(-np.sum(sub * log_p))
        d_logits = sub.sum(axis=1, keepdims=True) * np.exp(log_p) - sub
        grads = [d_logits @ g, d_logits.T @ f, d_logits.sum(axis=0)]
        adam_step(params, grads, moments, lr=lr, step=step)
    f = np.zeros((a.shape[0], k))
    f[rows] = params[0]
    return f, params[1], params[2], curve


def fit_tabular(
    draws: PatternDraws, vocab: int, k: int, *, loss: str, steps: int, lr: float, seed: int
) -> TabularModel:
    """Train a tabular model on the draws' empirical co-occurrence.

    Parameters
    ----------
    draws : PatternDraws
    vocab, k : int
    loss : str
    steps : int
    lr : float
    seed : int

    Returns
    -------
    TabularModel

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.simulations.data import draw_patterns
    >>> d = draw_patterns(preset_source("topic"), parse_objective("ar", 4), 2000, seed=0)
    >>> m = fit_tabular(d, 4, k=2, loss="spectral", steps=200, lr=0.5, seed=0)
    >>> bool(m.curve[-1] < m.curve[0])
    True
    """
    a = empirical_cooccurrence(draws, vocab)
    if check_loss(loss) == "spectral":
        f, g, curve = train_spectral(a, k, steps=steps, lr=lr, seed=seed)
        bias = np.zeros(vocab)
    else:
        f, g, bias, curve = train_cross_entropy(a, k, steps=steps, lr=lr, seed=seed)
    return TabularModel(draws.objective, vocab, f, g, bias, loss, a.sum(axis=0), curve)


def exact_spectral_model(
    a: np.ndarray, objective: Objective, *, vocab: int, k: int
) -> TabularModel:
    """The T1 minimizer on the exact co-occurrence (dense over all contexts): ideal features.

    Parameters
    ----------
    a : ndarray, shape (contexts, V)
        The exact ``A``.
    objective : Objective
    vocab, k : int

    Returns
    -------
    TabularModel
    """
    f, g = optimal_factors(a, k)
    return TabularModel(
        objective, vocab, f, g, np.zeros(vocab), "spectral", a.sum(axis=0), np.zeros(0)
    )
