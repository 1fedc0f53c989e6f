"""Joints of sources whose token is the hidden state (markov, graph walk), no hidden axis carried.

When every emission is the identity, the visible tokens are states of a Markov chain, and
the joint of the positions read, ``S`` and the target ``i``, is itself a chain:
``P(z, x_{p_1}, ..., x_{p_m}) = pi_z mu_z(p_1)[x_{p_1}] prod_j M_z(p_j, p_{j+1})[x_{p_j},
x_{p_{j+1}}]``, with ``M_z(a, b) = A_{z,a} ... A_{z,b-1}`` the transition over a gap and
``mu_z(p)`` the state's law at ``p``. Each position read is one broadcast product whose output
is the joint itself: one multiplication per entry, where the general recurrence
(:mod:`lookaround.theory.recurrence`) carries an ``H`` axis and does ``H`` multiply-adds per
entry of an ``H``-times larger message. What it gives up is the recurrence's sharing of work
between visible sets: each set is built on its own, so it pays where a target has few sets
(``ar``, ``dar``, ``mlm:m`` with ``m`` small) and not where it has thousands (``vmlm``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from lookaround.theory.sources import Source

__all__ = ["CHAIN_SETS", "CHAIN_VOCAB", "ChainMoves", "chain_joints", "chain_pays"]

# Measured (benchmarks/ladder.py and a sweep of markov rungs, medians of 3): above 64 visible
# sets for one target, sharing prefixes (the stacked recurrence) beats building each set
# alone (vmlm at V=2, T=13: 4,096 sets per target); below V=8 the recurrence's small BLAS
# products are as fast (0.86x to 1.11x at V=2..6), from V=8 the chain wins (1.09x at V=8;
# 1.13x to 1.70x at V=10).
CHAIN_SETS = 64
CHAIN_VOCAB = 8


def chain_pays(source: Source, visible_sets: np.ndarray) -> bool:
    """Whether :func:`chain_joints` applies (the token is the state) and pays (few sets of a
    large vocabulary).

    Parameters
    ----------
    source : Source
        The source.
    visible_sets : ndarray of int
        The visible sets of one target, as bitmasks.

    Returns
    -------
    bool
    """
    return source.emits_state and source.vocab >= CHAIN_VOCAB and len(visible_sets) <= CHAIN_SETS


class ChainMoves:
    """``M_z(a, b)`` and ``pi_z mu_z(p)`` of one source, each computed once.

    Parameters
    ----------
    source : Source
        A source whose token is its state.
    """

    def __init__(self, source: Source) -> None:
        self.source = source

    @functools.cache  # noqa: B019 - one instance per pass
    def move(self, a: int, b: int) -> np.ndarray:
        """``M_z(a, b)``, shape (r, V, V): the state at ``b`` given the state at ``a < b``."""
        step = self.source.trans[:, a]
        return step if b == a + 1 else step @ self.move(a + 1, b)

    def basis(self, near: int, target: int, far: int) -> np.ndarray:
        """The bases of target ``i`` between visible neighbours ``a < i < b`` (``a = -1``, or
        ``b = T``, when there is none): ``M_(x_a, x_b)[z, t] = M_z(a, i)[x_a, t] M_z(i, b)[t,
        x_b]``, shape (V_a V_b, r, V), ``x_a`` major (docs/theory.md §4.7)."""
        source = self.source
        r, vocab = source.n_classes, source.vocab
        into = self.move(near, target) if near >= 0 else self.start(target)[:, None, :]
        out = self.move(target, far) if far < source.length else np.ones((r, vocab, 1))
        return np.einsum("zat,ztb->abzt", into, out).reshape(-1, r, vocab)

    def start(self, p: int) -> np.ndarray:
        """``pi_z mu_z(p)[v]``, shape (r, V): the class and the state at ``p``."""
        source = self.source
        law = source.init if p == 0 else np.einsum("zh,zhv->zv", source.init, self.move(0, p))
        return source.prior[:, None] * law


def chain_joints(
    source: Source, target: int, visible_sets: np.ndarray, *, chunk: int
) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
    """``P(z, x_i, x_S)`` for every visible set ``S`` of target ``i``: the output of
    :func:`lookaround.theory.recurrence.stacked_joints`, one set at a time.

    Parameters
    ----------
    source : Source
        A source whose token is its hidden state (a Markov chain per class).
    target : int
        The target position ``i``.
    visible_sets : ndarray of int
        The visible sets ``S`` of target ``i``, as bitmasks.
    chunk : int
        Floats per block, about.

    Yields
    ------
    masks : ndarray
        The visible set of the block (one bitmask).
    target : int
        ``i``.
    joint : ndarray, shape (r, V, V^|S|, 1)
        ``P(z, x_i, x_S)``.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.recurrence import stacked_joints
    >>> src = preset_source("markov")
    >>> sets = np.array([0b00011, 0b10001])  # S = {0, 1} and {0, 4}, target 2
    >>> fast = {int(m[0]): j[:, :, 0] for m, _, j in chain_joints(src, 2, sets, chunk=10**6)}
    >>> slow = {int(m): j[:, :, g] for ms, _, j in stacked_joints(src, 2, sets, chunk=10**6)
    ...         for g, m in enumerate(ms)}
    >>> all(np.allclose(fast[m], slow[m], rtol=0, atol=1e-15) for m in slow)
    True
    """
    gaps = ChainMoves(source)
    for mask in visible_sets:
        visible = [p for p in range(int(mask).bit_length()) if int(mask) >> p & 1]
        positions = sorted([*visible, target])
        first = gaps.start(positions[0])  # (r, V)
        on_target = positions[0] == target
        joint = first[:, :, None] if on_target else first[:, None, :]
        for offset, part in _extend(gaps, joint, positions, 1, on_target, target, 0, chunk):
            yield np.array([mask], dtype=visible_sets.dtype), offset, part[:, :, None, :]


def _extend(
    gaps: ChainMoves,
    joint: np.ndarray,
    positions: list[int],
    at: int,
    on_target: bool,
    target: int,
    offset: int,
    chunk: int,
) -> Iterator[tuple[int, np.ndarray]]:
    """Read ``positions[at:]`` into ``joint[z, u, n]`` (``n`` the contexts read so far, the
    state their last token, or ``u`` when ``on_target``), halving the contexts whenever the
    next product would pass ``chunk`` floats; yields ``(offset, joint)`` of each finished
    range of contexts, ``offset`` counted in contexts read so far."""
    if at == len(positions):
        yield offset, joint
        return
    r, vocab, count = joint.shape[0], gaps.source.vocab, joint.shape[2]
    halves = count // vocab if not on_target else count
    if r * vocab * count * vocab > chunk and halves > 1:
        # whole groups of the last token stay together: the product reads it
        cut = (halves // 2) * (count // halves)
        for lo, hi in ((0, cut), (cut, count)):
            yield from _extend(gaps, joint[:, :, lo:hi], positions, at, on_target, target,
                               offset + lo, chunk)  # fmt: skip
        return
    move = gaps.move(positions[at - 1], positions[at])  # (r, V_from, V_to)
    if positions[at] == target:  # [z, u, n] from [z, 1, m, last]
        grouped = joint.reshape(r, count // vocab, vocab)
        joint = (grouped[:, None, :, :] * move.transpose(0, 2, 1)[:, :, None, :]).reshape(
            r, vocab, count
        )
        yield from _extend(gaps, joint, positions, at + 1, True, target, offset, chunk)
        return
    if on_target:  # the state is u: [z, u, n, v]
        joint = (joint[:, :, :, None] * move[:, :, None, :]).reshape(r, vocab, count * vocab)
    else:  # the state is the last token of n: [z, u, m, last, v]
        span = joint.shape[1]
        grouped = joint.reshape(r, span, count // vocab, vocab, 1)
        joint = (grouped * move[:, None, None, :, :]).reshape(r, span, count * vocab)
    yield from _extend(gaps, joint, positions, at + 1, False, target, offset * vocab, chunk)
