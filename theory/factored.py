"""Rows of ``A`` held as small factors: ``A[c, :] = u(c) M_b``, ``b`` the context's blanket.

For a pattern ``(S, i)`` the target depends on the context only through the class and the
target's visible neighbours, its blanket ``b`` (docs/theory.md §4.7). So the rows of a
blanket's contexts are ``u(c) M_b``, with ``u(c)`` of ``r`` numbers and ``M_b`` one ``r x V``
matrix, and every product a pass needs goes through them: the Gram is
``sum_b M_b^T W_b M_b`` with ``W_b = sum_{c in b} u(c)^T u(c) / P(c)``, ``r^2`` multiply-adds per
context where the rows cost ``V^2``, and no ``V``-wide row is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from lookaround.theory.marginals import bayes_labels
from lookaround.theory.objectives import Objective
from lookaround.theory.spectral import Chunk, RowChunk

__all__ = ["FactoredChunk", "by_pattern", "gathered", "halves", "right_budget"]


@dataclass(frozen=True, eq=False)
class FactoredChunk(Chunk):
    """The contexts of ``B`` blankets, ``n`` each: row ``(b, j)`` of ``A`` is
    ``coefficients[b, :, j] @ basis[b]``.

    Rows run blanket after blanket (``b`` major). Contexts of zero mass are kept (the
    shapes stay regular) and have a zero column in ``indicator``.

    Attributes
    ----------
    coefficients : ndarray, shape (B, r S, n)
        ``u(c)``: the weight of each context on each class (and, ``S > 1``, each hidden
        state of the target, class major), so that ``P(z, c) = sum_h u_{z,h}(c) sum_t
        M_b[(z, h), t]``.
    basis : ndarray, shape (B, r S, V)
        ``M_b``: the target's law given each class (and state) and the blanket, up to the
        part of the context's probability it carries.
    states : int
        ``S``: 1 on the blanket path (the class alone); ``H`` on the hidden-state path (1
        too for a one-state HMM: the path is named by ``blankets.factored_path``, not by it).
    twin : FactoredChunk, optional
        A chunk of the same coefficients whose class joint is this one's times a positive
        number (another target of the same window, docs/theory.md §4.7): its labels and
        indicator are this chunk's, computed once.

    Examples
    --------
    >>> u = np.array([[[0.1, 0.2], [0.3, 0.0]]])  # one blanket, two classes, two contexts
    >>> m = np.array([[[0.5, 0.5], [1.0, 0.0]]])
    >>> chunk = FactoredChunk(u, m)
    >>> chunk.dense().rows.tolist(), chunk.labels.tolist()
    ([[0.35, 0.05], [0.1, 0.1]], [1, 0])
    """

    coefficients: np.ndarray
    basis: np.ndarray
    states: int = 1
    twin: FactoredChunk | None = None

    @property
    def classes(self) -> int:
        """``r``."""
        return self.basis.shape[1] // self.states

    @property
    def width(self) -> int:  # type: ignore[override]
        """``V``, the targets."""
        return self.basis.shape[2]

    @cached_property
    def _class_joint(self) -> np.ndarray:
        """``P(z, c)``, shape (B, r, n)."""
        joint = self.coefficients * self.basis.sum(axis=2)[:, :, None]
        if self.states == 1:
            return joint
        blankets, _, count = joint.shape
        return joint.reshape(blankets, self.classes, self.states, count).sum(axis=2)

    @cached_property
    def mass(self) -> np.ndarray:  # type: ignore[override]
        """``P(c)``, shape (B n,); 0 for contexts of zero mass."""
        return self._class_joint.sum(axis=1).reshape(-1)

    @cached_property
    def labels(self) -> np.ndarray:  # type: ignore[override]
        """Bayes labels, shape (B n,)."""
        if self.twin is not None:
            return self.twin.labels
        return bayes_labels(self._class_joint, axis=1).reshape(-1)

    @cached_property
    def indicator(self) -> np.ndarray:  # type: ignore[override]
        """``Y^T``, shape (r, B n), zero on contexts of zero mass."""
        if self.twin is not None:
            return self.twin.indicator
        classes = np.arange(self.classes)[:, None]
        return ((classes == self.labels[None, :]) & (self.mass > 0)[None, :]).astype(float)

    @property
    def n_rows(self) -> int:  # type: ignore[override]
        """Contexts of positive mass."""
        return int(np.count_nonzero(self.mass > 0))

    def _scaled(self, scale: np.ndarray) -> np.ndarray:
        """The coefficients with each context's scaled by its ``scale``, shape (B, r S, n)."""
        blankets, _, count = self.coefficients.shape
        return self.coefficients * scale.reshape(blankets, 1, count)

    def gram(self, scale: np.ndarray) -> np.ndarray:
        scaled = self._scaled(scale)
        small = scaled @ scaled.transpose(0, 2, 1)  # W_b, shape (B, r, r)
        flat = self.basis.reshape(-1, self.width)
        return flat.T @ (small @ self.basis).reshape(-1, self.width)

    def class_grams(self, scale: np.ndarray) -> np.ndarray:
        blankets, weights, count = self.coefficients.shape
        classes = self.classes
        scaled = self._scaled(scale)
        by_class = self.indicator.reshape(classes, blankets, 1, count).transpose(1, 0, 2, 3)
        # written blanket-major (the indicator's order would make the reshape copy), for one
        # product per blanket, not per (blanket, class): 1.7x faster at r = 2
        split = np.multiply(scaled[:, None], by_class, order="C")
        split = split.reshape(blankets, classes * weights, count)
        small = (split @ scaled.transpose(0, 2, 1)).reshape(blankets, classes, weights, weights)
        through = (small @ self.basis[:, None]).transpose(1, 0, 2, 3)  # (r_y, B, r, V)
        flat = self.basis.reshape(-1, self.width)
        return flat.T[None] @ through.reshape(classes, -1, self.width)

    def scaled_rows(self, scale: np.ndarray) -> np.ndarray:
        # a blanket's scaled rows are (diag(scale) U_b^T) M_b = Q_b (R_b M_b), the QR of its
        # n x r S coefficients: R_b M_b has their QR factor with r S rows instead of n
        _, weights, count = self.coefficients.shape
        scaled = self._scaled(scale).transpose(0, 2, 1)
        if count > weights:
            scaled = np.linalg.qr(scaled, mode="r")  # (B, r S, r S)
        return (scaled @ self.basis).reshape(-1, self.width)

    def columns(self, matrix: np.ndarray) -> np.ndarray:
        blankets, _, count = self.coefficients.shape
        through = (self.basis @ matrix).transpose(0, 2, 1)  # (B, k, r)
        out = np.empty((matrix.shape[1], blankets, count))
        np.matmul(through, self.coefficients, out=out.transpose(1, 0, 2))
        return out.reshape(matrix.shape[1], -1)

    def columns_at(self, matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
        count = self.coefficients.shape[2]
        blanket, context = np.divmod(index, count)
        # each blanket's product once, then gathered: gathering the bases first would write
        # V floats for each coefficient of every row asked for
        through = (self.basis @ matrix)[blanket]  # (m, r, k)
        return np.einsum("mr,mrk->km", self.coefficients[blanket, :, context], through)

    def transposed_times(self, weights: np.ndarray) -> np.ndarray:
        blankets, _, count = self.coefficients.shape
        small = self.coefficients @ weights.reshape(blankets, count, -1)  # (B, r, k)
        return self.basis.reshape(-1, self.width).T @ small.reshape(-1, weights.shape[1])

    def supports(self) -> tuple[np.ndarray, np.ndarray | None]:
        # a context's support is the union of M_b's rows it has weight on: one support per
        # (blanket, set of rows), counted; past 16 rows, from the rows written out
        blankets, weights, count = self.coefficients.shape
        if weights > 16:
            return self.dense().supports()
        if self.coefficients.min() > 0:
            # each context of mass has every row: one support per blanket, counted without
            # keys (the keyed count took 12x as long, 0.24 ms a chunk against 0.02 at V = 10)
            found = np.count_nonzero(self.mass.reshape(blankets, count) > 0, axis=1)
            seen = np.flatnonzero(found)
            return np.any(self.basis[seen] > 0, axis=1), found[seen]
        bits = 1 << np.arange(weights)
        present = (self.coefficients > 0) & (self.mass > 0).reshape(blankets, 1, count)
        keys = np.einsum("brn,r->bn", present.astype(np.int64), bits)
        keys += (np.arange(blankets) << weights)[:, None]
        found = np.bincount(keys.reshape(-1), minlength=blankets << weights)
        found[:: 1 << weights] = 0  # contexts of zero mass: no row
        seen = np.flatnonzero(found)
        chosen = (seen[:, None] & bits[None, :]) > 0  # (G, r S)
        rows = ((self.basis[seen >> weights] > 0) & chosen[:, :, None]).any(axis=1)
        return rows, found[seen]

    def dense(self) -> RowChunk:
        rows = self.columns(np.eye(self.width)).T
        keep = self.mass > 0
        joint = self._class_joint.transpose(0, 2, 1).reshape(-1, self.classes)
        return RowChunk(rows[keep], self.mass[keep], joint[keep])


def right_budget(chunk: int, weights: int, left: int) -> int:
    """Floats of a part of a pattern's right walk, given its left walk's ``left`` floats.

    A part of each walk multiplies into ``(L's size)(R's size) / weights`` floats
    (``weights`` the coefficients a context has). The parts should make about ``chunk`` of
    them without either walk being cut into many small pieces: the right walk whole against
    a small left one, ``sqrt(chunk weights)`` each when both are large (the left walk is
    repeated for each part of the right).

    Parameters
    ----------
    chunk : int
        Floats of one chunk's coefficients.
    weights : int
        Coefficients per context (``r``, or ``r H``).
    left : int
        Floats of the whole left walk.

    Returns
    -------
    int

    Examples
    --------
    >>> right_budget(131_072, 2, 2), right_budget(131_072, 2, 10**6)
    (131072, 512)
    """
    return max(int(np.sqrt(chunk * weights)), chunk * weights // left)


def halves(array: np.ndarray, axis: int, budget: int) -> Iterator[np.ndarray]:
    """``array`` cut in halves along ``axis`` (views), again and again, until each part holds
    at most ``budget`` floats or one entry along ``axis``: how a walk keeps its messages to a
    chunk.

    Parameters
    ----------
    array : ndarray
        The message to cut.
    axis : int
        Its contexts' axis.
    budget : int
        Floats a part may hold.

    Yields
    ------
    ndarray

    Examples
    --------
    >>> [part.shape for part in halves(np.zeros((2, 5)), 1, 4)]
    [(2, 2), (2, 1), (2, 2)]
    """
    count = array.shape[axis]
    if array.size <= budget or count == 1:
        yield array
        return
    for part in np.split(array, [count // 2], axis=axis):
        yield from halves(part, axis, budget)


def gathered(parts: Iterable[FactoredChunk], chunk: int) -> Iterator[FactoredChunk]:
    """Small chunks joined along the blanket axis (those with as many contexts per blanket):
    a chunk costs each consumer a few dozen numpy calls whatever its size, and a pattern of a
    masked objective may have only a few contexts.

    Parameters
    ----------
    parts : iterable of FactoredChunk
        Chunks of one path (the same ``states``).
    chunk : int
        A part of at least a quarter of ``chunk`` floats (coefficients and bases) is passed
        on alone; parts with as many contexts a blanket are joined once they reach half of
        it, and all at once when ``4 chunk`` floats are held.

    Yields
    ------
    FactoredChunk

    Examples
    --------
    >>> one = FactoredChunk(np.ones((1, 2, 3)), np.ones((1, 2, 4)))
    >>> [c.coefficients.shape for c in gathered([one, one, one], chunk=100)]
    [(3, 2, 3)]
    """
    pending: dict[int, list[FactoredChunk]] = {}  # by contexts a blanket
    sizes: dict[int, int] = {}
    for part in parts:
        # a part's bases count: with a context or two a blanket (mlm:2 at V = 50) they are
        # most of its floats, and a consumer's products with them are a few times their size
        size = part.coefficients.size + part.basis.size
        if 4 * size >= chunk:
            yield part
            continue
        count = part.coefficients.shape[2]
        pending.setdefault(count, []).append(part)
        sizes[count] = sizes.get(count, 0) + size
        if 2 * sizes[count] >= chunk:  # half a chunk: 2x fewer chunks than a quarter
            del sizes[count]
            yield _joined(pending.pop(count))
        elif sum(sizes.values()) > 4 * chunk:  # every group at once: bounds what is held
            yield from map(_joined, pending.values())
            pending, sizes = {}, {}
    yield from map(_joined, pending.values())


def _joined(parts: list[FactoredChunk]) -> FactoredChunk:
    if len(parts) == 1:
        return parts[0]
    coefficients = np.concatenate([p.coefficients for p in parts])
    return FactoredChunk(coefficients, np.concatenate([p.basis for p in parts]), parts[0].states)


PatternChunks = Callable[[tuple[int, ...], int, float], Iterator[FactoredChunk]]


def by_pattern(objective: Objective, chunks: PatternChunks, chunk: int) -> Iterator[FactoredChunk]:
    """Every pattern's chunks, ``chunks(visible, target, weight)``, small ones gathered.

    Parameters
    ----------
    objective : Objective
        The objective whose patterns are read.
    chunks : callable
        ``(S, i, w(S, i))`` to that pattern's chunks.
    chunk : int
        Floats of coefficients a gathered chunk holds at most.

    Yields
    ------
    FactoredChunk

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> one = lambda visible, target, weight: iter([FactoredChunk(np.ones((1, 1, 1)), np.ones((1, 1, 2)))])
    >>> [c.coefficients.shape for c in by_pattern(parse_objective("ar", 3), one, chunk=100)]
    [(2, 1, 1)]
    """
    parts = (
        part
        for visible, target, weight in objective.weighted_patterns()
        for part in chunks(visible, target, weight)
    )
    return gathered(parts, chunk)
