"""Exact conditionals of sampled contexts: ``P(z | x_S)``, ``P(x_i = t | x_S)`` and the belief ``P(z, h_i | x_S)`` by forward-backward.

A context is a pattern ``(S, i)`` and the visible tokens ``x_S``. Under a source (a mixture of
hidden Markov models, :class:`~lookaround.theory.sources.Source`), both laws come from one
forward and one backward pass per class in which hidden positions emit with probability 1:
``alpha_i(h) beta_i(h) = P(x_S, h_i = h | z)``, so

``P(z, h_i | x_S) ∝ pi_z alpha_i(h) beta_i(h)`` and
``P(x_i = v | x_S) = sum_{z,h} P(z, h_i = h | x_S) B_{z,i}[h, v]``.

The passes are vectorized over a batch of contexts with different ``S`` and ``i`` and
rescaled at every step (log-normalizers kept), so ``T`` in the hundreds does not underflow.
The cost is ``O(n T r H^2 + n r H V)`` for ``n`` contexts; nothing is enumerated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.theory.numerics import softmax
from lookaround.theory.sources import Source

__all__ = ["ContextLaws", "context_laws", "prefix_laws", "sequence_classes"]


@dataclass(frozen=True, eq=False)
class ContextLaws:
    """Exact laws of ``n`` contexts.

    Attributes
    ----------
    classes : ndarray, shape (n, r)
        ``P(z | x_S)``.
    targets : ndarray, shape (n, V)
        ``q_c = P(x_i = . | x_S)``, the context's row of ``A`` divided by ``P_c(c)``.
    states : ndarray, shape (n, r, H)
        ``P(z, h_i | x_S)``: the belief over the class and the hidden state at the target
        (filtered for a prefix context, smoothed for a masked one); it sums to 1 per context.
    """

    classes: np.ndarray
    targets: np.ndarray
    states: np.ndarray


def _emission(source: Source, z: int, t: int, tokens: np.ndarray, visible: np.ndarray):
    """``P(x_t | h_t = .)`` per context where ``t`` is visible, 1 where it is hidden."""
    return np.where(visible[:, t, None], source.emit[z, t][:, tokens[:, t]].T, 1.0)


def _forward_at_target(source, z, tokens, visible, target) -> tuple[np.ndarray, ...]:
    """Normalized ``P(h_i | x_{S,<i}, z)`` and ``log P(x_{S,<i} | z)`` for each context, and
    ``log P(x_S | z)`` over the whole sequence."""
    n, length = tokens.shape
    alpha = np.repeat(source.init[z][None, :], n, axis=0)
    log_scale = np.zeros(n)
    at_target, log_at_target = np.empty_like(alpha), np.empty(n)
    for t in range(length):
        here = target == t
        at_target[here], log_at_target[here] = alpha[here], log_scale[here]
        alpha = alpha * _emission(source, z, t, tokens, visible)
        total = alpha.sum(axis=1)
        alpha /= np.where(total > 0, total, 1.0)[:, None]
        log_scale += np.log(total)
        if t < length - 1:
            alpha = alpha @ source.trans[z, t]
    return at_target, log_at_target, log_scale


def _backward_at_target(source, z, tokens, visible, target) -> tuple[np.ndarray, np.ndarray]:
    """Normalized ``P(x_{S,>i} | h_i = ., z)`` and its log-normalizer for each context."""
    n, length = tokens.shape
    beta = np.ones((n, source.init.shape[1]))
    log_scale = np.zeros(n)
    at_target, log_at_target = np.empty_like(beta), np.empty(n)
    for t in range(length - 1, -1, -1):
        here = target == t
        at_target[here], log_at_target[here] = beta[here], log_scale[here]
        if t == 0:
            break
        beta = (_emission(source, z, t, tokens, visible) * beta) @ source.trans[z, t - 1].T
        total = beta.sum(axis=1)
        beta /= np.where(total > 0, total, 1.0)[:, None]
        log_scale += np.log(total)
    return at_target, log_at_target


def context_laws(
    source: Source, tokens: np.ndarray, *, visible: np.ndarray, target: np.ndarray
) -> ContextLaws:
    """``P(z | x_S)``, ``P(x_i = t | x_S)`` and ``P(z, h_i | x_S)`` of each context, exactly.

    Parameters
    ----------
    source : Source
    tokens : ndarray of int, shape (n, T)
        Sequences; only the visible entries are read.
    visible : ndarray of bool, shape (n, T)
        ``S`` of each context, as a mask.
    target : ndarray of int, shape (n,)
        ``i`` of each context, a hidden position.

    Returns
    -------
    ContextLaws

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> src = preset_source("disjoint")
    >>> laws = context_laws(src, np.array([[0, 0, 0, 0]]),
    ...                     visible=np.array([[1, 1, 0, 0]], bool), target=np.array([2]))
    >>> laws.classes.round(6).tolist(), bool(np.isclose(laws.targets.sum(), 1.0))
    ([[1.0, 0.0]], True)
    """
    n = tokens.shape[0]
    r, states = source.init.shape
    log_joint = np.empty((n, r))
    posterior = np.empty((n, r, states))
    with np.errstate(divide="ignore"):  # a context impossible under a class has log mass -inf
        for z in range(r):
            alpha, log_alpha, _ = _forward_at_target(source, z, tokens, visible, target)
            beta, log_beta = _backward_at_target(source, z, tokens, visible, target)
            joint = alpha * beta
            total = joint.sum(axis=1)
            posterior[:, z] = joint / np.where(total > 0, total, 1.0)[:, None]
            log_joint[:, z] = np.log(source.prior[z]) + log_alpha + log_beta + np.log(total)
    classes = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
    classes /= classes.sum(axis=1, keepdims=True)
    targets = np.zeros((n, source.vocab))
    for t in np.unique(target):
        rows = np.flatnonzero(target == t)
        for z in range(r):
            weight = classes[rows, z, None] * posterior[rows, z]
            targets[rows] += weight @ source.emit[z, t]
    return ContextLaws(classes, targets, classes[:, :, None] * posterior)


def sequence_classes(source: Source, tokens: np.ndarray) -> np.ndarray:
    """``P(z | x)`` of whole sequences, shape (n, r), by one rescaled forward pass per class.

    Parameters
    ----------
    source : Source
        The source.
    tokens : ndarray, shape (n, T)
        Sequences.

    Returns
    -------
    ndarray, shape (n, r)
        ``P(z | x)`` of each sequence.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> sequence_classes(preset_source("disjoint"), np.array([[0, 1, 0, 1]])).tolist()
    [[1.0, 0.0]]
    """
    n, r = tokens.shape[0], source.n_classes
    everything, nowhere = np.ones(tokens.shape, dtype=bool), np.full(n, -1)
    log_joint = np.empty((n, r))
    with np.errstate(divide="ignore"):  # a sequence impossible under a class has log mass -inf
        for z in range(r):
            _, _, log_mass = _forward_at_target(source, z, tokens, everything, nowhere)
            log_joint[:, z] = np.log(source.prior[z]) + log_mass
    return softmax(log_joint)


def prefix_laws(source: Source, tokens: np.ndarray) -> np.ndarray:
    """Every prefix law ``P(x_l | x_<l)``, ``l = 1..T-1``, of each sequence: shape (n, T-1, V).

    One forward pass per class serves every prefix of a sequence (the filtered state at ``l``
    is the forward message after ``x_<l``), where :func:`context_laws` would run a forward and
    a backward pass per prefix.

    Parameters
    ----------
    source : Source
    tokens : ndarray of int, shape (n, T)

    Returns
    -------
    ndarray, shape (n, T - 1, V)

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> src, x = preset_source("hmm"), np.array([[0, 2, 1, 1, 0]])
    >>> whole = prefix_laws(src, x)[0, 1]  # l = 2
    >>> one = context_laws(src, x, visible=np.array([[1, 1, 0, 0, 0]], bool), target=np.array([2]))
    >>> bool(np.allclose(whole, one.targets[0], atol=1e-12))
    True
    """
    n, length = tokens.shape
    r = source.n_classes
    out = np.zeros((n, length - 1, source.vocab))
    log_joint = np.repeat(np.log(np.maximum(source.prior, 1e-300))[None, :], n, axis=0)
    states = np.empty((r, n, source.init.shape[1]))
    with np.errstate(divide="ignore"):  # a prefix impossible under a class has log mass -inf
        for z in range(r):
            states[z] = source.init[z][None, :]
        for t in range(length - 1):
            for z in range(r):
                alpha = states[z] * source.emit[z, t][:, tokens[:, t]].T
                total = alpha.sum(axis=1)
                log_joint[:, z] += np.log(total)
                states[z] = (alpha / np.where(total > 0, total, 1.0)[:, None]) @ source.trans[z, t]
            classes = softmax(log_joint)
            for z in range(r):
                out[:, t] += classes[:, z, None] * (states[z] @ source.emit[z, t + 1])
    return out
