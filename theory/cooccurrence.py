"""The context-target co-occurrence ``A[c, t] = w(omega) P(x_S, x_i = t)`` (docs/theory.md §4.1).

A context is ``c = (omega, x_S)``, so each pattern owns a dense block of ``V^|S|`` contexts
indexed by ``x_S`` in mixed radix (earliest visible position most significant). Blocks come
straight from the source's marginals and are streamed: nothing here enumerates the masked
tokens, and nothing holds more than one block (or one chunk of a block) at a time unless asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lookaround.theory.chains import chain_joints, chain_pays
from lookaround.theory.marginals import sequence_joint
from lookaround.theory.objectives import Objective, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.recurrence import stacked_joints
from lookaround.theory.sources import Source

__all__ = [
    "Block",
    "Cooccurrence",
    "DEFAULT_CHUNK",
    "SAMPLE_CHUNK",
    "Replay",
    "build_cooccurrence",
    "context_offsets",
    "iter_blocks",
    "sample_stream",
    "visible_index",
    "visible_set_tables",
]

DEFAULT_CHUNK = 2_000_000  # floats in one block chunk: r * contexts * V
SAMPLE_CHUNK = 200_000  # floats in one chunk of the sample-target matrix Q


@dataclass(frozen=True, eq=False)
class Block:
    """The contexts of ``G`` patterns that share a target, over one range of context indices.

    Attributes
    ----------
    pattern_indices : ndarray, shape (G,)
        Indices of the patterns ``omega`` in ``objective.patterns``.
    offset : int
        Index of the range's first context among each pattern's ``V^|S|`` contexts.
    joint : ndarray, shape (r, V, G, n)
        ``w(omega) P(z, x_i = v, x_S)``: summing over classes gives ``A``'s rows, over targets
        the class-joint ``P(z, c)``. The target axis is second so that both come out as
        columns: their rows, ``(G n, V)`` and ``(G n, r)``, are transposed views (numpy works
        over a short trailing axis many times slower than over a long one).
    """

    pattern_indices: np.ndarray
    offset: int
    joint: np.ndarray

    @property
    def cooccurrence(self) -> np.ndarray:
        """``A[c, t]`` for the block's contexts, shape (G n, V), pattern after pattern."""
        return _columns([self.joint[z] for z in range(self.joint.shape[0])])

    @property
    def class_joint(self) -> np.ndarray:
        """``P(z, c)`` for the block's contexts, shape (G n, r)."""
        return _columns([self.joint[:, v] for v in range(self.joint.shape[1])])

    def contexts(self) -> tuple[np.ndarray, np.ndarray]:
        """Pattern index and context index (mixed radix ``x_S``) of each row, shape (G n,)."""
        count, width = self.joint.shape[2:]
        patterns = np.repeat(self.pattern_indices, width)
        return patterns, np.tile(np.arange(self.offset, self.offset + width), count)


def _columns(parts: list[np.ndarray]) -> np.ndarray:
    """The sum of a few ``(m, G, n)`` arrays as ``(G n, m)`` rows, a transposed view.

    A running sum of the parts: ``np.sum`` over the first axis of the stacked joint is no
    faster, and summing over the short trailing axis of rows would be several times slower.
    """
    total = parts[0] + parts[1] if len(parts) > 1 else parts[0].copy()
    for part in parts[2:]:
        total += part
    return total.reshape(total.shape[0], -1).T


def iter_blocks(
    source: Source, objective: Objective, chunk: int = DEFAULT_CHUNK
) -> Iterator[Block]:
    """Stream the co-occurrence target by target, in blocks of about ``chunk`` floats.

    The patterns of each target come from one subset-stacked forward recurrence
    (:mod:`lookaround.theory.recurrence`), whatever their number.

    Parameters
    ----------
    source : Source
    objective : Objective
        Must have ``objective.length == source.length``.
    chunk : int
        Memory bound, in floats, of one step of the recurrence.

    Yields
    ------
    Block

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> src = preset_source("topic")
    >>> total = sum(b.cooccurrence.sum() for b in iter_blocks(src, parse_objective("mlm:2", 4)))
    >>> round(float(total), 12)
    1.0
    """
    for target, (indices, masks) in objective.by_target().items():
        order = np.argsort(masks)
        joints = chain_joints if chain_pays(source, masks) else stacked_joints
        for found, offset, joint in joints(source, target, masks, chunk=chunk):
            rows = indices[order[np.searchsorted(masks, found, sorter=order)]]
            joint *= objective.weights[rows][None, None, :, None]
            yield Block(rows, offset, joint)


@dataclass(frozen=True, eq=False)
class Cooccurrence:
    """The whole co-occurrence held in memory, zero-mass contexts dropped (for small cases).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_c, V)
        ``A``; sums to 1.
    class_joint : ndarray, shape (n_c, r)
        ``P(z, c)``.
    pattern_index, context_index : ndarray, shape (n_c,)
        Row ``c`` is context ``context_index[c]`` (mixed radix ``x_S``) of pattern
        ``objective.patterns[pattern_index[c]]``.
    objective : Objective
    vocab : int
    """

    matrix: sp.csr_matrix
    class_joint: np.ndarray
    pattern_index: np.ndarray
    context_index: np.ndarray
    objective: Objective
    vocab: int

    def context_label(self, row: int) -> str:
        """Human-readable context, e.g. ``'x0=2 x2=1 -> x1'`` (``_`` for the empty set)."""
        pattern = self.objective.patterns[self.pattern_index[row]]
        tokens = np.unravel_index(self.context_index[row], (self.vocab,) * len(pattern.visible))
        shown = " ".join(f"x{p}={int(v)}" for p, v in zip(pattern.visible, tokens)) or "_"
        return f"{shown} -> x{pattern.target}"


def build_cooccurrence(source: Source | str, objective: Objective | str) -> Cooccurrence:
    """Materialize ``A`` as a sparse matrix (contexts with ``P_c = 0`` are not contexts).

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective, of the source's length.

    Returns
    -------
    Cooccurrence
        ``A`` (CSR, contexts by targets), its contexts and their class joints.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> co = build_cooccurrence(preset_source("topic"), parse_objective("ar", 4))
    >>> co.matrix.shape, co.context_label(0)
    ((84, 4), 'x0=0 -> x1')
    """
    source = as_source(source)
    objective = as_objective(objective, source.length)
    rows, joints, patterns, contexts = [], [], [], []
    for block in iter_blocks(source, objective):
        cooc = block.cooccurrence
        keep = np.flatnonzero(cooc.sum(axis=1) > 0)
        rows.append(cooc[keep])
        joints.append(block.class_joint[keep])
        pattern, context = block.contexts()
        patterns.append(pattern[keep])
        contexts.append(context[keep])
    pattern, context = np.concatenate(patterns), np.concatenate(contexts)
    order = np.lexsort((context, pattern))  # objective order, then x_S
    return Cooccurrence(
        sp.csr_matrix(np.concatenate(rows)[order]),
        np.concatenate(joints)[order],
        pattern[order],
        context[order],
        objective,
        source.vocab,
    )


def visible_index(visible: tuple[int, ...], tokens: np.ndarray, vocab: int) -> np.ndarray:
    """Mixed-radix index of ``x_S`` in each row of ``tokens``: the context's row in its block.

    Parameters
    ----------
    visible : tuple of int
        The visible positions ``S``, sorted.
    tokens : ndarray, shape (n, T)
        Sequences.
    vocab : int
        ``V``.

    Returns
    -------
    ndarray of int, shape (n,)

    Examples
    --------
    >>> visible_index((0, 2), np.array([[1, 0, 2], [0, 1, 1]]), 3).tolist()
    [5, 1]
    """
    if not visible:
        return np.zeros(tokens.shape[0], dtype=np.int64)
    return np.asarray(
        np.ravel_multi_index(tuple(tokens[:, list(visible)].T), (vocab,) * len(visible))
    )


def context_offsets(objective: Objective, vocab: int) -> np.ndarray:
    """Start of each pattern's ``V^|S|`` block in a dense index over all contexts (and the total).

    Parameters
    ----------
    objective : Objective
        The objective.
    vocab : int
        ``V``.

    Returns
    -------
    ndarray of int
        Row offset of each pattern's contexts, in pattern order.

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> context_offsets(parse_objective("ar", 3), 2).tolist()
    [0, 2, 6]
    """
    sizes = [vocab ** len(p.visible) for p in objective.patterns]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def visible_set_tables(
    source: Source, objective: Objective, blocks: Iterable[Block] | None = None
) -> dict[tuple[int, ...], np.ndarray]:
    """``sum_i w(S, i) P(x_i = t | x_S)`` per visible set ``S``, shape (V^|S|, V).

    Patterns sharing ``S`` share their context index, so the sample-side matrix needs one
    gather per visible set, not one per pattern (``T 2^T`` patterns but ``2^T`` sets for vmlm).
    ``blocks`` are the objective's blocks when the caller already holds them.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    blocks : iterable of Block, optional
        The objective's blocks, when the caller already holds them.

    Returns
    -------
    dict of tuple to ndarray
        The table of each visible set ``S``, shape (V^|S|, V).
    """
    tables: dict[tuple[int, ...], np.ndarray] = {}
    for block in iter_blocks(source, objective) if blocks is None else blocks:
        cooc = block.cooccurrence
        mass = cooc.sum(axis=1, keepdims=True)
        # cooc / mass = P(x_i | x_S); the pattern weight was in both and cancelled.
        conditional = np.divide(cooc, mass, out=np.zeros_like(cooc), where=mass > 0)
        width = block.joint.shape[3]
        for g, index in enumerate(block.pattern_indices):
            visible = objective.patterns[index].visible
            table = tables.setdefault(
                visible, np.zeros((source.vocab ** len(visible), source.vocab))
            )
            rows = conditional[g * width : (g + 1) * width]
            table[block.offset : block.offset + width] += objective.weights[index] * rows
    return tables


class Replay:
    """A re-iterable stream: each ``iter`` calls the factory again and rebuilds the blocks.

    Streams are read once per pass; a list is the cached alternative with the same protocol.

    Parameters
    ----------
    factory : callable
        Returns a fresh iterator over the blocks; called once per pass.
    """

    def __init__(self, factory: Callable[[], Iterator]):
        self._factory = factory

    def __iter__(self) -> Iterator:
        return iter(self._factory())


def sample_stream(
    source: Source,
    objective: Objective,
    *,
    chunk: int = SAMPLE_CHUNK,
    blocks: Iterable[Block] | None = None,
) -> Replay:
    """The sample-target matrix ``Q[x, t] = sum_c P(x, c) P(t | c)`` over all sequences, replayable.

    ``P(x) K(x, x') = (Q D_t^{-1} Q^T)[x, x']``: the sample graph is the two-hop graph of ``Q``,
    so its spectrum comes from the ``V x V`` Gram of ``Q`` and ``K`` is never formed. The
    conditional tables and ``P(z, x)`` are computed once; each pass rebuilds ``Q`` in chunks
    of about ``chunk`` floats; ``blocks`` (the objective's, if already built) spare a pass.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    chunk : int
        Floats per chunk of ``Q``, about.
    blocks : iterable of Block, optional
        The objective's blocks, when the caller already holds them.

    Returns
    -------
    Replay
        Iterating it yields, per chunk, ``(tokens, q, class_joint)``:

    tokens : ndarray, shape (n, T)
        The sequences of the chunk.
    q : ndarray, shape (n, V)
        ``Q`` rows; ``q.sum(1) == P(x)``.
    class_joint : ndarray, shape (n, r)
        ``P(z, x)``.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> src = preset_source("topic")
    >>> _, q, cj = next(iter(sample_stream(src, parse_objective("ar", 4))))
    >>> bool(np.allclose(q.sum(axis=1), cj.sum(axis=1)))
    True
    """
    tables = visible_set_tables(source, objective, blocks)
    joint = sequence_joint(source).reshape(source.n_classes, -1)
    step = max(1, chunk // max(source.vocab, 1))

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        total = joint.shape[1]
        for start in range(0, total, step):
            ids = np.arange(start, min(total, start + step))
            tokens = np.stack(np.unravel_index(ids, (source.vocab,) * source.length), axis=1)
            class_joint = joint[:, ids].T
            q = np.zeros((ids.size, source.vocab))
            for visible, table in tables.items():
                q += table[visible_index(visible, tokens, source.vocab)]
            yield tokens, q * class_joint.sum(axis=1)[:, None], class_joint

    return Replay(chunks)
