"""A chain source's blanket chunks built for many visible sets at once, window by window (docs/theory.md §4.7).

On a chain source a pattern ``(S, i)`` factors through its *window*, the nearest visible
positions ``a < i < b``: its coefficients ``u(c) = L_z(x_{S <= a}) R_z(x_{S >= b} | x_b)``
depend on ``S`` and ``x_S`` alone, not on ``i``, and only the bases ``M_b`` do. So the visible
sets of one window with as many positions on each side are a *rectangle*: every left part
(``G_L`` of them) with every right part (``G_R``), whose coefficients are one broadcast
product of the stacked left walks and the stacked right walks, and which every target of the
window shares, each with its own bases. A masked objective (vmlm: ``T 2^(T-1)`` patterns of a
few hundred contexts at ``V = 2, T = 16``) then costs a few numpy calls per rectangle, where
walking each pattern on its own costs a hundred microseconds of Python per pattern.
"""

from __future__ import annotations

import functools
import itertools
import math
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lookaround.theory.chains import ChainMoves
from lookaround.theory.factored import FactoredChunk
from lookaround.theory.objectives import MASK_LENGTH, Objective

__all__ = ["Rectangle", "rectangles", "window_chunks"]

PatternChunks = Callable[[tuple[int, ...], int, float], Iterator[FactoredChunk]]


@dataclass(frozen=True, eq=False)
class Rectangle:
    """Visible sets ``S = left part + {a} + {b} + right part``, every left part with every
    right part, all with the same weight for each target of the window ``a < i < b``.

    Attributes
    ----------
    left, right : int
        ``a`` and ``b``: ``-1`` when no position left of the target is visible, ``T`` when
        none right of it is.
    left_sets : ndarray, shape (G_L, k_L)
        The positions of each left part, below ``a`` (one empty part when ``a = -1``).
    right_sets : ndarray, shape (G_R, k_R)
        The positions of each right part, above ``b``.
    weights : ndarray, shape (b - a - 1,)
        ``w(S, i)`` of every set of the rectangle, for ``i = a + 1, ..., b - 1`` (0 where
        ``(S, i)`` is not a pattern).
    length : int
        ``T``.
    """

    left: int
    right: int
    left_sets: np.ndarray
    right_sets: np.ndarray
    weights: np.ndarray
    length: int

    def visible(self, left_set: int, right_set: int) -> tuple[int, ...]:
        """The visible set of left part ``left_set`` with right part ``right_set``."""
        inner = [p for p in (self.left, self.right) if 0 <= p < self.length]
        parts = [*self.left_sets[left_set], *inner, *self.right_sets[right_set]]
        return tuple(int(p) for p in parts)


# kept while their objective lives (both passes read them), not past it
_PLANS: weakref.WeakKeyDictionary[Objective, tuple[Rectangle, ...]] = weakref.WeakKeyDictionary()


def rectangles(objective: Objective) -> tuple[Rectangle, ...]:
    """The patterns of ``objective`` as rectangles (computed once per objective).

    Parameters
    ----------
    objective : Objective
        Of length ``T <= 62`` (its visible sets as int64 bitmasks,
        :data:`lookaround.theory.objectives.MASK_LENGTH`).

    Returns
    -------
    tuple of Rectangle
        Each pattern with positive weight is in exactly one, once.

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> [(r.left, r.right, r.left_sets.shape, r.right_sets.shape)
    ...  for r in rectangles(parse_objective("mlm:1", 4))][:3]
    [(-1, 1, (1, 0), (1, 2)), (0, 2, (1, 0), (1, 1)), (1, 3, (1, 1), (1, 0))]
    """
    if objective.length > MASK_LENGTH:
        raise ValueError(f"rectangles are planned up to T = {MASK_LENGTH}, not {objective.length}")
    found = _PLANS.get(objective)
    if found is None:
        found = _PLANS[objective] = _plan(objective)
    return found


def _plan(objective: Objective) -> tuple[Rectangle, ...]:
    law = objective.size_law()
    if law is not None:
        return tuple(_exchangeable_plan(law, objective.length))
    length = objective.length
    by_target = objective.by_target()
    indices, masks = map(np.concatenate, zip(*by_target.values()))
    targets = np.repeat(list(by_target), [len(found) for found, _ in by_target.values()])
    weights = objective.weights[indices]
    near, far, left, right, left_count, right_count = _windows(masks, targets, length)
    order = np.lexsort((targets, right, left, right_count, left_count, far, near))
    keys = np.stack([near, far, left_count, right_count])[:, order]
    bounds = [0, *(np.flatnonzero(np.any(keys[:, 1:] != keys[:, :-1], axis=0)) + 1), order.size]
    near, far, left, right = (values[order] for values in (near, far, left, right))
    slots, weights = targets[order] - near - 1, weights[order]
    found: list[Rectangle] = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        run = slice(start, stop)
        window = int(near[start]), int(far[start]), length
        found.extend(_run_rectangles(window, left[run], right[run], slots[run], weights[run]))
    return tuple(found)


def _exchangeable_plan(law: dict[int, float], length: int) -> Iterator[Rectangle]:
    """The rectangles of an objective whose weight is ``law[|S|]`` for every ``(S, i)`` of
    those sizes (:meth:`Objective.size_law`), without reading its patterns: every window
    ``a < b`` and part sizes ``k_L, k_R`` of a size it weighs, in the order :func:`_plan`
    sorts them, the parts in order of their bitmasks (vmlm at ``T = 16``: 0.03-0.09 s
    against 0.5 s, and the 0.2-0.5 s of ``Objective.by_target``'s bitmasks are not spent)."""
    parts = functools.cache(_ordered_subsets)
    sizes = sorted(law)
    for a in range(-1, length - 1):
        for b in range(a + 2, length + 1):
            sides, below, above = (a >= 0) + (b < length), max(a, 0), max(length - 1 - b, 0)
            for k_left in range(below + 1):
                for size in sizes:  # the part sizes of a weighed size alone, k_R ascending
                    k_right = size - sides - k_left
                    if 0 <= k_right <= above:
                        row = np.full(b - a - 1, law[size])
                        right = parts(above, k_right) + (b + 1)
                        yield Rectangle(a, b, parts(below, k_left), right, row, length)


def _ordered_subsets(count: int, size: int) -> np.ndarray:
    """The subsets of ``size`` of ``0..count-1`` as rows of positions, shape (C, size), in
    order of their bitmasks."""
    sets = np.array([*itertools.combinations(range(count), size)], dtype=np.int64)
    sets = sets.reshape(math.comb(count, size), size)
    return sets[np.argsort((np.int64(1) << sets).sum(axis=1), kind="stable")]


def _windows(masks: np.ndarray, targets: np.ndarray, length: int) -> tuple[np.ndarray, ...]:
    """Per pattern: ``a``, ``b``, the left and right parts as bitmasks and their sizes."""
    one = np.int64(1)
    below = masks & ((one << targets) - 1)
    above = masks & ~((one << (targets + 1)) - 1)
    near = np.full(masks.shape, -1)
    far = np.full(masks.shape, length)
    below_count = np.zeros(masks.shape, dtype=np.int64)
    above_count = np.zeros(masks.shape, dtype=np.int64)
    for t in range(length):  # exact bit by bit: a float log2 rounds past 2^53
        seen_below, seen_above = (below >> t) & 1, (above >> t) & 1
        near = np.where(seen_below == 1, t, near)
        below_count += seen_below
        above_count += seen_above
    for t in range(length - 1, -1, -1):
        far = np.where((above >> t) & 1 == 1, t, far)
    left = np.where(near >= 0, below ^ (one << np.maximum(near, 0)), 0)
    right = np.where(far < length, above ^ (one << np.minimum(far, length - 1)), 0)
    return near, far, left, right, below_count - (near >= 0), above_count - (far < length)


def _run_rectangles(
    window: tuple[int, int, int],
    left: np.ndarray,
    right: np.ndarray,
    slot: np.ndarray,
    weight: np.ndarray,
) -> Iterator[Rectangle]:
    """The rectangles of the patterns of one window ``(a, b, T)`` and one pair of part sizes,
    sorted by left part, right part and target."""
    a, b, length = window
    changes = np.flatnonzero((left[1:] != left[:-1]) | (right[1:] != right[:-1])) + 1
    count = changes.size + 1  # visible sets
    each = left.size // count
    if left.size == count * each and (changes == each * np.arange(1, count)).all():
        slots, weights = slot.reshape(count, each), weight.reshape(count, each)
        lefts, rights = np.unique(left[::each]), np.unique(right[::each])
        same = (slots == slots[0]).all() and (weights == weights[0]).all()
        if same and lefts.size * rights.size == count:  # the masked objectives: one rectangle
            row = np.zeros(b - a - 1)
            row[slots[0]] = weights[0]
            yield Rectangle(
                a, b, _positions(lefts, length), _positions(rights, length), row, length
            )
            return
    # not every left part goes with every right part with the same weights: one rectangle
    # per left part and row of weights
    sets, inverse = np.unique(left | right, return_inverse=True)
    table = np.zeros((sets.size, b - a - 1))
    table[inverse.reshape(-1), slot] = weight
    below = (np.int64(1) << max(a, 0)) - 1
    rows, row_of = np.unique(table, axis=0, return_inverse=True)
    row_of = row_of.reshape(-1)
    for row in range(rows.shape[0]):
        chosen = sets[row_of == row]
        for part in np.unique(chosen & below):
            partners = chosen[(chosen & below) == part] ^ part
            yield Rectangle(
                a, b, _positions(np.array([part]), length), _positions(partners, length),
                rows[row], length,
            )  # fmt: skip


def _positions(masks: np.ndarray, length: int) -> np.ndarray:
    """Bitmasks of equal size as rows of positions, shape (G, k)."""
    bits = (masks[:, None] >> np.arange(length)) & 1
    return np.nonzero(bits)[1].reshape(masks.size, -1)


class _StackedWalks:
    """The chain's walks for many visible sets at once, each set's moves gathered from one
    table of every ``M_z(p, q)`` (``T^2 r V^2 / 2`` floats, filled once)."""

    def __init__(self, moves: ChainMoves) -> None:
        self.moves = moves
        self.source = source = moves.source
        length, r, vocab = source.length, source.n_classes, source.vocab
        self.moves_table = np.zeros((length, length, r, vocab, vocab))
        self.starts = np.stack([moves.start(p) for p in range(length)])  # (T, r, V)
        for p in range(length):
            for q in range(p + 1, length):
                self.moves_table[p, q] = moves.move(p, q)

    def left(self, sets: np.ndarray, near: int) -> np.ndarray:
        """``L_z`` of each set's tokens up to ``a``, shape (G, r, V_a, n_L); ``a = -1``: 1."""
        r = self.source.n_classes
        if near < 0:
            return np.ones((1, r, 1, 1))
        path = np.column_stack([sets, np.full(len(sets), near)])
        first = self.starts[path[:, 0]]  # (G, r, V)
        joint = self._extend(first[:, :, None, :, None], path)
        return joint.reshape(joint.shape[0], r, -1, joint.shape[-1])

    def right(self, sets: np.ndarray, far: int) -> np.ndarray:
        """``R_z`` of each set's tokens after ``b`` given ``x_b``, shape (G, r, V_b, n_R);
        ``b = T``: 1."""
        r, vocab = self.source.n_classes, self.source.vocab
        if far == self.source.length:
            return np.ones((1, r, 1, 1))
        if sets.shape[1] == 0:
            return np.ones((1, r, vocab, 1))
        first = self.moves_table[far, sets[:, 0]]  # (G, r, V_b, V)
        joint = self._extend(first[..., None], sets)
        return joint.reshape(joint.shape[0], r, vocab, -1)

    def _extend(self, joint: np.ndarray, path: np.ndarray) -> np.ndarray:
        """Read ``path[:, 1:]`` into ``joint[g, z, k, last, n]``, contexts last, the newest
        token slowest (as the pattern walks write them)."""
        for step in range(1, path.shape[1]):
            move = self.moves_table[path[:, step - 1], path[:, step]].transpose(0, 1, 3, 2)
            grown = np.multiply(joint[:, :, :, None], move[:, :, None, :, :, None], order="C")
            count, r, carried, vocab = grown.shape[:4]
            joint = grown.reshape(count, r, carried, vocab, -1)
        return joint


def window_chunks(
    moves: ChainMoves, objective: Objective, per_pattern: PatternChunks, *, chunk: int
) -> Iterator[FactoredChunk]:
    """Every context of ``objective`` on the chain of ``moves``, rectangle by rectangle.

    Parameters
    ----------
    moves : ChainMoves
        The source's moves.
    objective : Objective
        Of the source's length, at most 62 (see :func:`rectangles`).
    per_pattern : callable
        ``(S, i, w)`` to one pattern's chunks, for sets too large to stack (a single one's
        coefficients past ``chunk``).
    chunk : int
        Floats of one product's coefficients, about.

    Yields
    ------
    FactoredChunk
        Chunks of one target share their coefficients with the window's other targets.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> src = preset_source("markov")
    >>> chunks = window_chunks(ChainMoves(src), parse_objective("vmlm", 5), None, chunk=10**6)
    >>> round(float(sum(c.mass.sum() for c in chunks)), 12)
    1.0
    """
    walks = _StackedWalks(moves)
    window: tuple[int, int] | None = None
    bases: dict[int, np.ndarray] = {}
    for rectangle in rectangles(objective):  # a window's rectangles come one after another
        if (rectangle.left, rectangle.right) != window:  # its bases, kept while it lasts
            window, bases = (rectangle.left, rectangle.right), {}
        yield from _rectangle_chunks(walks, rectangle, bases, per_pattern, chunk)


def _rectangle_chunks(
    walks: _StackedWalks,
    rectangle: Rectangle,
    bases: dict[int, np.ndarray],
    per_pattern: PatternChunks,
    chunk: int,
) -> Iterator[FactoredChunk]:
    source = walks.source
    a, b = rectangle.left, rectangle.right
    targets = [(i, float(w)) for i, w in enumerate(rectangle.weights, a + 1) if w != 0]
    sides = (a >= 0) + (b < source.length)
    counts = rectangle.left_sets.shape[1] + rectangle.right_sets.shape[1]
    pair = source.n_classes * source.vocab ** (sides + counts)  # one set's coefficients
    if pair <= chunk:
        for i, _ in targets:
            if i not in bases:
                bases[i] = walks.moves.basis(a, i, b)
        weighted = [bases[i] * w for i, w in targets]
        for coefficients in _products(walks, rectangle, pair, chunk):
            yield from _target_chunks(coefficients, weighted, chunk)
        return
    # one set is several chunks: walked on its own, in parts
    for g, h in itertools.product(
        range(len(rectangle.left_sets)), range(len(rectangle.right_sets))
    ):
        visible = rectangle.visible(g, h)
        for i, w in targets:
            yield from per_pattern(visible, i, w)


def _products(
    walks: _StackedWalks, rectangle: Rectangle, pair: int, chunk: int
) -> Iterator[np.ndarray]:
    """The rectangle's coefficients, (V_a V_b, r, n), as many right parts a product as fit
    ``chunk`` with one left part (``pair`` floats a set), then as many left parts."""
    r = walks.source.n_classes
    right_batch = max(1, chunk // pair)
    for h in range(0, len(rectangle.right_sets), right_batch):
        parts = rectangle.right_sets[h : h + right_batch]
        after = walks.right(parts, rectangle.right)  # (G_R, r, V_b, n_R)
        after = np.ascontiguousarray(after.transpose(2, 1, 0, 3)).reshape(after.shape[2], r, -1)
        left_batch = max(1, chunk // (pair * len(parts)))
        for g in range(0, len(rectangle.left_sets), left_batch):
            before = walks.left(rectangle.left_sets[g : g + left_batch], rectangle.left)
            # u[(a, b), z, (g, l, h, m)] = L_z[g, a, l] R_z[h, b, m], contexts last
            product = np.multiply(
                before.transpose(2, 1, 0, 3)[:, None, :, :, :, None],
                after[None, :, :, None, None, :],
                order="C",
            )
            yield product.reshape(-1, r, product[0, 0, 0].size)


def _target_chunks(
    coefficients: np.ndarray, bases: list[np.ndarray], chunk: int
) -> Iterator[FactoredChunk]:
    """The chunks of a window's targets: one sharing ``coefficients`` per target, or, when
    all of them fit one chunk, one with the coefficients repeated and the bases stacked (a
    chunk costs each consumer a few dozen numpy calls however small)."""
    if len(bases) * coefficients.size > chunk:
        # the class joints of a window's targets are proportional (sum_t M_z(a, i)[x_a, t]
        # M_z(i, b)[t, x_b] = M_z(a, b)[x_a, x_b] whatever i), so are their labels
        first = FactoredChunk(coefficients, bases[0])
        yield first
        for basis in bases[1:]:
            yield FactoredChunk(coefficients, basis, twin=first)
        return
    repeated = np.broadcast_to(coefficients, (len(bases), *coefficients.shape))
    yield FactoredChunk(repeated.reshape(-1, *coefficients.shape[1:]), np.concatenate(bases))
