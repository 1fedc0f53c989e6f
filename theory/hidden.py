"""The context rows of an HMM source through the target's hidden state, as :class:`FactoredChunk` (docs/theory.md §4.7).

Given the class and the hidden state ``h_i`` at the target, the target's token is independent
of every other position: ``P(z, x_S, x_i = t) = sum_h P(z, x_S, h_i = h) E_{z,i}[h, t]``. So
``u(c)`` is the ``r H`` numbers ``P(z, h_i = h, x_S)``, one forward pass over the visible
tokens before ``i`` times one backward pass over those after it, and there is one basis for all
the contexts of a pattern, the emission rows ``E_{z,i}``. Where ``r H < V`` each context costs
``(r H)^2`` instead of ``V^2``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from lookaround.theory.factored import FactoredChunk, by_pattern, halves, right_budget
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source

__all__ = ["hidden_chunks", "hidden_pays"]


def hidden_pays(source: Source, objective: Objective, contexts_per_pattern: int) -> bool:
    """Whether :func:`hidden_chunks` pays: an HMM with ``2 r H <= V``, and at least
    ``contexts_per_pattern`` contexts a pattern on average.

    Measured against the row path (``analyze`` at the context level, best of 2;
    ``benchmarks/paths.py``): 2.1x to 4.2x faster at ``V = 10, r H = 4`` (ar, mlm:2, vmlm),
    6.3x at ``V = 20, r H = 6``; at ``V / r H`` of 1.5 1.7x to 1.8x, at 1.25 0.83x, too few
    cases to move the rule by (docs/theory.md §4.7).

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    contexts_per_pattern : int
        The fewest contexts a pattern may have on average (each pattern costs its own walks).

    Returns
    -------
    bool

    Examples
    --------
    >>> from lookaround.theory.presets import resolve_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> hidden_pays(resolve_source("hmm2(V=6,T=8)"), parse_objective("ar", 8), 512)  # r H = 4
    False
    """
    if source.emits_state or 2 * source.n_classes * source.n_states > source.vocab:
        return False
    return objective.context_count(source.vocab) >= contexts_per_pattern * objective.support_size()


def hidden_chunks(source: Source, objective: Objective, *, chunk: int) -> Iterator[FactoredChunk]:
    """Every context of ``objective`` on ``source``, pattern after pattern, as
    :class:`FactoredChunk` over the target's hidden state, of about ``chunk`` floats each.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        Of the source's length.
    chunk : int
        Floats of one chunk's coefficients, about.

    Yields
    ------
    FactoredChunk

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> src = preset_source("topic")
    >>> total = sum(c.mass.sum() for c in hidden_chunks(src, parse_objective("mlm:2", 4), chunk=10**6))
    >>> round(float(total), 12)
    1.0
    """
    steps = _Steps(source)
    return by_pattern(objective, functools.partial(_pattern_chunks, steps, chunk=chunk), chunk)


class _Steps:
    """The arrays each step of the two walks multiplies by, per position."""

    def __init__(self, source: Source) -> None:
        self.source = source
        # reading position t then moving to t + 1: E_t[h, x] A_t[h, h'], shape (r, H, V, H)
        self.read = source.emit[:, :-1, :, :, None] * source.trans[:, :, :, None, :]


def _pattern_chunks(
    steps: _Steps, visible: tuple[int, ...], target: int, weight: float, chunk: int
) -> Iterator[FactoredChunk]:
    source = steps.source
    r, states, vocab = source.n_classes, source.n_states, source.vocab
    basis = (source.emit[:, target] * weight).reshape(1, r * states, vocab)
    start = (source.prior[:, None] * source.init)[:, None, :]  # P(z, h_0), (r, n = 1, H)
    left = r * states * vocab ** sum(p < target for p in visible)
    for after in _backward(steps, visible, target, right_budget(chunk, r * states, left)):
        budget = max(chunk * r * states // after.size, r * states * vocab)
        for before in _forward(steps, start, visible, 0, target, budget):  # (r, n_L, H)
            # u[(z, h), (l, m)] = P(z, x_left = l, h_i = h) P(x_right = m | h_i = h, z)
            product = before.transpose(0, 2, 1)[:, :, :, None] * after[:, :, None, :]
            yield FactoredChunk(product.reshape(1, r * states, -1), basis, states)


def _forward(
    steps: _Steps, alpha: np.ndarray, visible: tuple[int, ...], at: int, stop: int, budget: int
) -> Iterator[np.ndarray]:
    """``P(z, x_{S < stop}, h_stop)`` as (r, n, H) from ``alpha`` at position ``at``, halving
    the contexts ``n`` whenever a read (or, at the end, the message) would pass ``budget``
    floats."""
    if at == stop:
        yield from halves(alpha, 1, budget)
        return
    if at not in visible:  # masked: the emission sums to 1, only the move remains
        yield from _forward(steps, alpha @ steps.source.trans[:, at], visible, at + 1, stop, budget)
        return
    r, _, states = alpha.shape
    vocab = steps.source.vocab
    read = steps.read[:, at].reshape(r, states, vocab * states)  # (r, H, V H')
    for part in halves(alpha, 1, budget // vocab):
        grown = (part @ read).reshape(r, part.shape[1] * vocab, states)
        yield from _forward(steps, grown, visible, at + 1, stop, budget)


def _backward(
    steps: _Steps, visible: tuple[int, ...], target: int, budget: int
) -> Iterator[np.ndarray]:
    """``P(x_{S > target} | h_target, z)`` as (r, H, n), in parts of about ``budget`` floats."""
    source = steps.source
    r, states = source.n_classes, source.n_states
    last = source.length - 1
    if target == last:
        yield np.ones((r, states, 1))
        return
    # beta at the last position, P(x_last | h_last, z): the emission (visible) or 1 (masked)
    beta = source.emit[:, last] if last in visible else np.ones((r, states, 1))
    yield from _back(steps, beta, visible, last - 1, target, budget)


def _back(
    steps: _Steps, beta: np.ndarray, visible: tuple[int, ...], at: int, target: int, budget: int
) -> Iterator[np.ndarray]:
    """Move ``beta`` (r, H, n), the law of the tokens after ``at``, back to ``at``, reading it
    if visible; at ``target`` only the move. Halves ``n`` when a read would pass ``budget``."""
    source = steps.source
    move = source.trans[:, at]  # (r, H, H'), from at to at + 1
    if at == target or at not in visible:
        moved = move @ beta
        if at == target:
            yield from halves(moved, 2, budget)
        else:
            yield from _back(steps, moved, visible, at - 1, target, budget)
        return
    r, states, _ = beta.shape
    vocab = source.vocab
    # beta'[z, h, (x, n)] = E_at[h, x] sum_h' A_at[h, h'] beta[z, h', n]; x most significant
    read = steps.read[:, at].reshape(r, states * vocab, states)
    for part in halves(beta, 2, budget // vocab):
        grown = (read @ part).reshape(r, states, vocab * part.shape[2])
        yield from _back(steps, grown, visible, at - 1, target, budget)
