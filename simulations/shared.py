"""A shared-weight context encoder: contexts share parameters, so unseen patterns get features.

``h0 = sum_{p in S} E[p, x_p] + sum_{p not in S, p != i} M[p] + Q[i]`` (position-aware token
embeddings, a learned vector for each hidden position, the target position), then
``f = W2 tanh(W1 h0 + b1)``. The head is ``g(t)`` (spectral loss of T1, estimated on a
minibatch with all off-diagonal pairs for the product term) or ``softmax(f.g + b)``
(cross-entropy). Gradients are analytic, in numpy, checked against finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.seeds import streams
from lookaround.simulations.data import PatternDraws
from lookaround.simulations.models import Readout, adam_step, check_loss, predictive
from lookaround.theory.numerics import log_softmax
from lookaround.theory.objectives import Pattern
from lookaround.theory.pattern_laws import pattern_arrays

__all__ = [
    "PARAMS",
    "SharedModel",
    "encode",
    "fit_shared",
    "init_params",
    "loss_and_grads",
]

PARAMS = ("E", "M", "Q", "W1", "b1", "W2", "G", "b")


def init_params(length: int, vocab: int, k: int, *, width: int, hidden: int, seed: int) -> dict:
    """Seeded initial parameters (small Gaussian weights, zero biases).

    Parameters
    ----------
    length, vocab, k : int
        ``T``, ``V`` and the feature dimension.
    width, hidden : int
        The embedding and hidden widths.
    seed : int

    Returns
    -------
    dict
    """
    rng = np.random.default_rng(streams(seed).init)
    return {
        "E": 0.3 * rng.normal(size=(length, vocab, width)),
        "M": 0.3 * rng.normal(size=(length, width)),
        "Q": 0.3 * rng.normal(size=(length, width)),
        "W1": rng.normal(size=(width, hidden)) / np.sqrt(width),
        "b1": np.zeros(hidden),
        "W2": rng.normal(size=(hidden, k)) / np.sqrt(hidden),
        "G": 0.3 * rng.normal(size=(vocab, k)),
        "b": np.zeros(vocab),
    }


def _masks(visible: np.ndarray, target: np.ndarray) -> np.ndarray:
    length = visible.shape[1]
    return ~visible & (np.arange(length)[None, :] != target[:, None])


def encode(params: dict, tokens: np.ndarray, *, visible: np.ndarray, target: np.ndarray) -> tuple:
    """Forward pass of the encoder; returns ``f`` and the cache for :func:`gradients`.

    Parameters
    ----------
    params : dict
        The weights.
    tokens : ndarray, shape (n, T)
    visible : ndarray of bool, shape (n, T)
    target : ndarray of int, shape (n,)

    Returns
    -------
    tuple
        The features and what backpropagation needs.
    """
    length = tokens.shape[1]
    emb = params["E"][np.arange(length)[None, :], tokens]  # (B, T, d)
    hidden_pos = _masks(visible, target)
    h0 = (
        (emb * visible[..., None]).sum(axis=1)
        + hidden_pos.astype(float) @ params["M"]
        + params["Q"][target]
    )
    h1 = np.tanh(h0 @ params["W1"] + params["b1"])
    return h1 @ params["W2"], (tokens, visible, target, hidden_pos, h0, h1)


def loss_and_grads(params: dict, batch: tuple, loss: str) -> tuple[float, dict]:
    """Minibatch loss and its analytic gradient for every parameter.

    ``batch = (tokens (B,T), visible (B,T) bool, target position (B,), target token (B,))``.
    Spectral: ``-2 mean_j f_j.g(t_j) + mean_{j != j'} (f_j.g(t_j'))^2``, an unbiased estimate
    of T1's loss. Cross-entropy: ``mean_j -log softmax(f_j.G^T + b)_{t_j}``.

    Parameters
    ----------
    params : dict
    batch : tuple
        A minibatch.
    loss : str

    Returns
    -------
    value : float
    grads : dict
    """
    tokens, visible, target, answer = batch
    f, cache = encode(params, tokens, visible=visible, target=target)
    size = f.shape[0]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    if check_loss(loss) == "spectral":
        if size < 2:
            raise InputError("spectral loss needs a batch of at least 2")
        g_t = params["G"][answer]
        scores = f @ g_t.T
        off = ~np.eye(size, dtype=bool)
        value = -2.0 * np.mean(np.diag(scores)) + np.sum(scores[off] ** 2) / (size * (size - 1))
        d_scores = np.where(off, 2.0 * scores / (size * (size - 1)), 0.0) - 2.0 / size * np.eye(
            size
        )
        d_f = d_scores @ g_t
        np.add.at(grads["G"], answer, d_scores.T @ f)
    else:
        log_p = log_softmax(f @ params["G"].T + params["b"])
        value = -float(np.mean(log_p[np.arange(size), answer]))
        d_logits = np.exp(log_p)
        d_logits[np.arange(size), answer] -= 1.0
        d_logits /= size
        d_f = d_logits @ params["G"]
        grads["G"] = d_logits.T @ f
        grads["b"] = d_logits.sum(axis=0)
    tokens, visible, target, hidden_pos, h0, h1 = cache
    grads["W2"] = h1.T @ d_f
    d_a1 = (d_f @ params["W2"].T) * (1.0 - h1**2)
    grads["W1"] = h0.T @ d_a1
    grads["b1"] = d_a1.sum(axis=0)
    d_h0 = d_a1 @ params["W1"].T
    length = tokens.shape[1]
    positions = np.broadcast_to(np.arange(length)[None, :], tokens.shape)
    np.add.at(
        grads["E"],
        (positions[visible], tokens[visible]),
        np.repeat(d_h0, visible.sum(axis=1), axis=0),
    )
    grads["M"] = hidden_pos.astype(float).T @ d_h0
    np.add.at(grads["Q"], target, d_h0)
    return float(value), grads


@dataclass(frozen=True, eq=False)
class SharedModel:
    """A trained shared-weight model; gives features and predictions for any pattern.

    Attributes
    ----------
    params : dict
        The network's weights.
    loss : str
    vocab : int
    target_mass : ndarray
        ``P_t`` as training saw it.
    curve : ndarray
        The training loss at each step.
    """

    params: dict
    loss: str
    vocab: int
    target_mass: np.ndarray
    curve: np.ndarray

    def features(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """``f(c)`` for the contexts ``(pattern, x_S)`` of each row (any pattern)."""
        visible, target = pattern_arrays([pattern], tokens.shape[1])
        n = tokens.shape[0]
        return encode(
            self.params, tokens, visible=np.repeat(visible, n, axis=0), target=np.repeat(target, n)
        )[0]

    def conditional(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """The model's ``P(x_i = . | x_S)``, shape (n, V)."""
        return predictive(
            self.features(pattern, tokens),
            self.params["G"],
            self.params["b"],
            loss=self.loss,
            target_mass=self.target_mass,
        )

    @property
    def readout(self) -> Readout:
        """``g`` (the head ``G``) and the bias ``b``."""
        return Readout(self.params["G"], self.params["b"])


def fit_shared(
    draws: PatternDraws,
    vocab: int,
    k: int,
    *,
    loss: str,
    steps: int,
    lr: float,
    seed: int,
    batch: int = 256,
    width: int = 16,
    hidden: int = 32,
) -> SharedModel:
    """Minibatch Adam on the draws, seeded (batches are drawn with ``seed``).

    Parameters
    ----------
    draws : PatternDraws
        Training draws.
    vocab, k : int
        ``V`` and the feature dimension.
    loss : str
        ``"spectral"`` or ``"ce"``.
    steps : int
    lr : float
    seed : int
    batch : int
        Draws per step.
    width, hidden : int
        The embedding and hidden widths.

    Returns
    -------
    SharedModel

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.simulations.data import draw_patterns
    >>> d = draw_patterns(preset_source("topic"), parse_objective("mlm:2", 4), 2000, seed=0)
    >>> m = fit_shared(d, 4, k=2, loss="ce", steps=50, lr=0.01, seed=0)
    >>> m.features(parse_objective("ar", 4).patterns[0], d.tokens[:3]).shape
    (3, 2)
    """
    length = draws.tokens.shape[1]
    params = init_params(length, vocab, k, width=width, hidden=hidden, seed=seed)
    visible_all, target_all = pattern_arrays(list(draws.objective.patterns), length)
    answers = draws.targets
    rng = np.random.default_rng(streams(seed).minibatches)
    moments = {name: [np.zeros_like(v), np.zeros_like(v)] for name, v in params.items()}
    curve = np.empty(steps)
    for step in range(steps):
        rows = rng.integers(draws.tokens.shape[0], size=batch)
        j = draws.pattern_index[rows]
        value, grads = loss_and_grads(
            params, (draws.tokens[rows], visible_all[j], target_all[j], answers[rows]), loss
        )
        curve[step] = value
        adam_step(
            [params[n] for n in PARAMS],
            [grads[n] for n in PARAMS],
            [moments[n] for n in PARAMS],
            lr=lr,
            step=step,
        )
    mass = np.bincount(answers, minlength=vocab) / answers.size
    return SharedModel(params, loss, vocab, mass, curve)
