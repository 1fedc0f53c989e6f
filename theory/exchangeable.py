"""The visible sets of an exchangeable objective, in the order of its pattern table.

An exchangeable objective (docs/theory.md §3: mlm, vmlm, plm, aas) has every ``(S, i)``, ``i``
not in ``S``, of each size ``|S|`` it weighs, with a weight that depends on ``|S|`` alone. Its
table lists the sets in lexicographic order, each set's targets (its complement) ascending.
This module gives that order without building a pattern: set by set as tuples, or every set
at once as int64 bitmasks, which is all the row path reads (vmlm at ``T = 16``: 65,535 sets
for 524,288 patterns).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["bitmasks", "ordered_sets", "set_masks"]


def ordered_sets(
    sizes: Iterable[int], length: int
) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every set ``S`` of ``0..T-1`` of a size in ``sizes``, in lexicographic order, with its
    complement (the targets of its patterns), ascending.

    Parameters
    ----------
    sizes : iterable of int
        The sizes ``|S|`` weighed.
    length : int
        ``T``.

    Yields
    ------
    tuple
        ``(S, targets)``.

    Examples
    --------
    >>> list(ordered_sets([1, 2], 3))
    [((0,), (1, 2)), ((0, 1), (2,)), ((0, 2), (1,)), ((1,), (0, 2)), ((1, 2), (0,)), ((2,), (0, 1))]
    """
    positions = range(length)
    # the complement of the k-th set of a size in lexicographic order is the k-th from the end
    # of the other size's: 2x faster than testing each position
    pairs = (
        zip(
            itertools.combinations(positions, size),
            reversed([*itertools.combinations(positions, length - size)]),
        )
        for size in sorted(sizes)
    )
    return heapq.merge(*pairs)  # the sets differ: no complement is compared


def set_masks(sizes: Iterable[int], length: int) -> tuple[np.ndarray, np.ndarray]:
    """The sets of :func:`ordered_sets` as int64 bitmasks, with their sizes.

    Parameters
    ----------
    sizes : iterable of int
        The sizes ``|S|`` weighed.
    length : int
        ``T``, at most 62.

    Returns
    -------
    masks, counts : ndarray of int64
        Each set's bitmask and ``|S|``, in order.

    Examples
    --------
    >>> [m.tolist() for m in set_masks([1, 2], 3)]
    [[1, 3, 5, 2, 6, 4], [1, 2, 2, 1, 2, 1]]
    """
    sets = [visible for visible, _ in ordered_sets(sizes, length)]
    counts = np.fromiter(map(len, sets), np.int64, len(sets))
    flat = np.fromiter(itertools.chain.from_iterable(sets), np.int64, counts.sum())
    return bitmasks(flat, counts), counts


def bitmasks(flat: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Consecutive runs of distinct positions as int64 bitmasks (``T`` at most 62).

    Parameters
    ----------
    flat : ndarray of int64
        The positions of every set, one set after another.
    counts : ndarray of int64
        How many positions each set has.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> bitmasks(np.array([0, 2, 1]), np.array([2, 0, 1])).tolist()
    [5, 0, 2]
    """
    # a set's bits are distinct, so their sum is their union: differences of one running sum,
    # exact though it wraps past 2^63 (each difference is below 2^62)
    running = np.concatenate([[0], np.cumsum(np.int64(1) << flat)])
    ends = np.cumsum(counts)
    return running[ends] - running[ends - counts]
