"""One forward recurrence for every pattern of a target: the subset-stacked pass (docs/theory.md §4.5).

Masked objectives have many patterns per target (``2^(T-1)`` for vmlm), and built one by one
each pays a forward pass whose first steps repeat those of every pattern with the same first
visible positions. Here the target ``i`` is fixed and positions are read once, in order,
carrying one forward message per visible prefix: deciding position ``t`` gives each prefix a
masked child (the message passes on) and a visible child (one more token axis), and prefixes
that no pattern extends are dropped. Prefixes over the same range of context indices are
stacked in one array, so a step costs a few array operations whatever the number of patterns.
Memory is bounded by splitting a stack that would outgrow the chunk and finishing its parts
one after the other, depth first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lookaround.theory.sources import Source

__all__ = ["stacked_joints"]


@dataclass(frozen=True, eq=False)
class _Stack:
    """Forward messages of ``G`` visible prefixes over one range of context indices.

    ``alpha[z, u, g, n, h] = P(z, x_i = u, x_{S_g} = n-th tokens of the range, h_t = h)``:
    ``u`` has size 1 until the target is read, and ``h`` is gone once the last position is.
    ``masks[g]`` is ``S_g`` as a bitmask and ``offset`` the mixed-radix index of the range's
    first context. The target axis comes first so that, at the end, each target token's
    contexts are one contiguous run (the rows reach the consumers column by column).
    """

    masks: np.ndarray
    offset: int
    alpha: np.ndarray

    @property
    def size(self) -> int:
        return self.alpha.size


@dataclass(frozen=True, eq=False)
class _Step:
    """Reading position ``t``: the matrix each kind of child applies to its parent's messages
    on the hidden axis, the move to ``t + 1`` folded in (none after the last position).

    A token is read through a small BLAS product with ``B_{z,t}[h, v] A_{z,t}[h, h']``, even
    where the token is the state (identity emissions): numpy's broadcasting over axes of a
    few entries is 3 to 9 times slower per output than the product at ``H`` from 2 to 10,
    although it does ``H`` times fewer multiplications. ``live`` are the prefixes of
    positions ``<= t`` that some pattern extends, and ``every`` says that all children are
    live.
    """

    t: int
    masked: np.ndarray
    visible: np.ndarray
    target: tuple[np.ndarray, ...]
    last: bool
    live: np.ndarray
    every: bool


def _step(source: Source, t: int, last: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The masked, visible and per-target-token matrices of position ``t``."""
    r, states, vocab = source.n_classes, source.n_states, source.vocab
    move = source.trans[:, t] if t < last else None
    # the sum over h after the last position is a product with a column of ones
    masked = np.ones((r, states, 1)) if move is None else move
    emission = source.emit[:, t]  # (r, H, V)
    if move is not None:
        emission = (emission[:, :, :, None] * move[:, :, None, :]).reshape(r, states, -1)
    per_token = emission.reshape(r, states, vocab, -1)
    return masked, emission, tuple(per_token[:, :, u] for u in range(vocab))


def _steps(source: Source, full: np.ndarray, last: int) -> list[_Step]:
    steps, live = [], full[:1] & 0
    for t in range(last + 1):
        after = np.unique(full & ((1 << (t + 1)) - 1))
        every = after.size == 2 * live.size
        steps.append(_Step(t, *_step(source, t, last), t == last, after, every))
        live = after
    return steps


def _select(masks: np.ndarray, alpha: np.ndarray, step: _Step) -> tuple[np.ndarray, np.ndarray]:
    if step.every:
        return masks, alpha
    # membership in the sorted live prefixes; np.isin costs 10x more on these short arrays
    at = np.minimum(np.searchsorted(step.live, masks), step.live.size - 1)
    keep = step.live[at] == masks
    return (masks, alpha) if keep.all() else (masks[keep], alpha[:, :, keep])


@dataclass(frozen=True, eq=False)
class _Child:
    """A stack's child before it is computed: ``reads[u] = (u_in, matrix)`` fills target slot
    ``u`` of the child with ``alpha[:, u_in] @ matrix``, ``width`` contexts wide."""

    masks: np.ndarray
    offset: int
    alpha: np.ndarray
    width: int
    reads: tuple[tuple[int, np.ndarray], ...]


def _children(source: Source, stack: _Stack, step: _Step, target: int) -> list[_Child]:
    """The children of ``stack`` once position ``step.t`` is read."""
    span, width = stack.alpha.shape[1], stack.alpha.shape[3]
    if step.t == target:
        reads = tuple((0, matrix) for matrix in step.target)
        return [_Child(stack.masks, stack.offset, stack.alpha, width, reads)]
    children = []
    masks, alpha = _select(stack.masks, stack.alpha, step)
    if masks.size:
        reads = tuple((u, step.masked) for u in range(span))
        children.append(_Child(masks, stack.offset, alpha, width, reads))
    masks, alpha = _select(stack.masks | (1 << step.t), stack.alpha, step)
    if masks.size:
        # (v, h') lands after n: the new token is the least significant digit of the index
        reads = tuple((u, step.visible) for u in range(span))
        vocab = source.vocab
        children.append(_Child(masks, stack.offset * vocab, alpha, width * vocab, reads))
    return children


def _compute(children: list[_Child], last: bool) -> _Stack:
    """Children over one range of contexts, computed into one array (no concatenation)."""
    first = children[0]
    r, states = first.alpha.shape[0], first.alpha.shape[-1]
    count = sum(c.masks.size for c in children)
    tail = () if last else (states,)
    alpha = np.empty((r, len(first.reads), count, first.width) + tail)
    start = 0
    for child in children:
        stop = start + child.masks.size
        for u, (u_in, matrix) in enumerate(child.reads):
            rows = child.alpha[:, u_in].reshape(r, -1, states)
            np.matmul(rows, matrix, out=alpha[:, u, start:stop].reshape(r, rows.shape[1], -1))
        start = stop
    masks = np.concatenate([c.masks for c in children])
    return _Stack(masks, first.offset, alpha)


def _advance(source: Source, stacks: list[_Stack], step: _Step, target: int) -> list:
    """Read one position for every stack; children over the same contexts share one array."""
    groups: dict[tuple[int, int, int], list[_Child]] = {}
    for stack in stacks:
        for child in _children(source, stack, step, target):
            groups.setdefault((child.offset, child.width, len(child.reads)), []).append(child)
    return [_compute(children, step.last) for children in groups.values()]


def _split(stacks: list[_Stack]) -> tuple[list[_Stack], list[_Stack]] | None:
    """Two parts of about equal size: the stacks shared out, or a lone stack halved by
    prefixes, else by its context range (None when it is one row of one prefix)."""
    if len(stacks) > 1:
        parts: tuple[list[_Stack], list[_Stack]] = ([], [])
        sizes = [0, 0]
        for stack in sorted(stacks, key=lambda s: -s.size):
            smaller = int(sizes[1] < sizes[0])
            parts[smaller].append(stack)
            sizes[smaller] += stack.size
        return parts
    (stack,) = stacks
    count, width = stack.alpha.shape[2:4]
    if count > 1:
        half = count // 2
        first = _Stack(stack.masks[:half], stack.offset, stack.alpha[:, :, :half])
        second = _Stack(stack.masks[half:], stack.offset, stack.alpha[:, :, half:])
    elif width > 1:
        half = width // 2
        first = _Stack(stack.masks, stack.offset, stack.alpha[:, :, :, :half])
        second = _Stack(stack.masks, stack.offset + half, stack.alpha[:, :, :, half:])
    else:
        return None
    return [first], [second]


def _descend(
    source: Source, target: int, steps: list[_Step], stacks: list[_Stack], chunk: int
) -> Iterator[_Stack]:
    """Read ``steps`` for ``stacks``, splitting whenever a step would pass ``chunk`` floats."""
    growth = 1 + source.vocab
    for index, step in enumerate(steps):
        if sum(s.size for s in stacks) * growth > chunk:
            halves = _split(stacks)
            if halves is not None:
                for part in halves:
                    yield from _descend(source, target, steps[index:], part, chunk)
                return
        stacks = _advance(source, stacks, step, target)
    yield from stacks


def stacked_joints(
    source: Source, target: int, visible_sets: np.ndarray, *, chunk: int
) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
    """``P(z, x_i, x_S)`` for every visible set ``S`` of one target ``i``, stacked.

    Parameters
    ----------
    source : Source
    target : int
        ``i``.
    visible_sets : ndarray
        The distinct sets ``S`` (``i`` not in ``S``) as bitmasks of positions: int64, or
        Python ints (dtype object) past ``T = 62``.
    chunk : int
        Floats a stack may reach before it is split.

    Yields
    ------
    masks : ndarray, shape (G,)
        The sets of this stack, among ``visible_sets``.
    offset : int
        Mixed-radix index of the stack's first context ``x_S`` (earliest position most
        significant), the same for every set of the stack.
    joint : ndarray, shape (r, V, G, n)
        ``P(z, x_i = v, x_S)`` for the ``n`` contexts from ``offset`` on.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.marginals import joint_visible
    >>> src = preset_source("hmm")
    >>> sets = np.array([0b00011, 0b10001])  # S = {0, 1} and {0, 4}, target 2
    >>> out = {int(m): j[:, :, g] for ms, _, j in stacked_joints(src, 2, sets, chunk=10**6)
    ...        for g, m in enumerate(ms)}
    >>> brute = joint_visible(src, [0, 2, 4])  # (r, x_0, x_2, x_4)
    >>> bool(np.allclose(out[0b10001], brute.transpose(0, 2, 1, 3).reshape(2, 3, 9)))
    True
    """
    last = max(target, int(np.bitwise_or.reduce(visible_sets)).bit_length() - 1)
    steps = _steps(source, visible_sets, last)
    alpha = (source.prior[:, None] * source.init)[:, None, None, None, :]
    start = [_Stack(visible_sets[:1] & 0, 0, alpha)]
    for stack in _descend(source, target, steps, start, chunk):
        yield stack.masks, stack.offset, stack.alpha
