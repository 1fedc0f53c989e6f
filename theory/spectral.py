"""Spectra of bipartite co-occurrences from their small target side.

A row-target matrix ``R`` (contexts x targets for ``A``, samples x targets for ``Q``) defines a
two-hop graph ``R D_t^{-1} R^T`` over its rows. Its normalized spectrum is that of
``Rbar = D_r^{-1/2} R D_t^{-1/2}``, whose rows are never all needed at once: one pass keeps
the ``V x V`` Gram of ``D_r^{-1/2} R``, a BLAS product per chunk, and the singular values of
``F D_t^{-1/2}`` (``F`` its square root) are those of ``Rbar``. Where the Gram cannot resolve
a small singular value (its eigenvalues carry an absolute error of about ``1e-16``), a second
pass keeps the triangular factor of a streaming QR instead, accurate to rounding near zero
(docs/theory.md §4.4).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from lookaround.base.background import in_background
from lookaround.base.threads import producer_allowed
from lookaround.theory.marginals import bayes_labels
from lookaround.theory.numerics import inverse_sqrt_mass, tall_product

__all__ = [
    "Chunk",
    "GRAM_LIMIT",
    "QRTargetSideBuilder",
    "target_side_pass",
    "RANK_TOLERANCE",
    "RowChunk",
    "TargetSide",
    "TargetSideBuilder",
    "accumulate_target_side",
    "as_chunks",
    "gram_factor",
    "qr_append",
    "row_chunks",
    "run_pass",
    "square_factor",
]

RANK_TOLERANCE = 1e-8
# s_j^2 below this (s_j < 1e-5) is not resolved by the Gram, whose eigenvalues carry an
# absolute error of about 1e-16: s_j would be off by up to 1e-8. The QR route is used there.
GRAM_LIMIT = 1e-10


@dataclass(frozen=True, eq=False)
class TargetSide:
    """Everything the theory needs from one pass over the rows of ``R``.

    Attributes
    ----------
    target_mass : ndarray, shape (V,)
        ``P_t``, the column sums of ``R``.
    factor : ndarray, shape (V, V)
        ``F`` with ``F^T F = R^T D_r^{-1} R``: a square root of the BLAS Gram, or the
        triangular factor of the streaming QR where the Gram is ill-conditioned.
    label_target : ndarray, shape (V, r)
        ``R^T Y``: target mass by the Bayes label of the row.
    n_rows : int
        Rows with positive mass.
    """

    target_mass: np.ndarray
    factor: np.ndarray
    label_target: np.ndarray
    n_rows: int

    @property
    def gram(self) -> np.ndarray:
        """``R^T D_r^{-1} R`` (unnormalized target-side Gram)."""
        return self.factor.T @ self.factor

    def normalized_factor(self) -> np.ndarray:
        """``F D_t^{-1/2}``: same singular values as ``Rbar``."""
        return self.factor * inverse_sqrt_mass(self.target_mass)[None, :]

    def singular_values(self, count: int | None = None) -> np.ndarray:
        """``s_1 >= s_2 >= ...`` of ``Rbar``, zero-padded to ``count`` (0 past the rank).

        Examples
        --------
        >>> side = accumulate_target_side([(np.array([[0.5, 0.0], [0.0, 0.5]]), np.eye(2) / 2)])
        >>> side.singular_values(3).tolist()
        [1.0, 1.0, 0.0]
        """
        values = np.linalg.svd(self.normalized_factor(), compute_uv=False)
        values = np.minimum(values[: min(self.n_rows, values.size)], 1.0)
        if count is not None and count > values.size:
            values = np.concatenate([values, np.zeros(count - values.size)])
        return values

    @cached_property
    def right_singular(self) -> tuple[np.ndarray, np.ndarray]:
        """Every singular value of ``F D_t^{-1/2}`` and its right vector (as columns), from one
        SVD that the probe's features and its rounding probes share."""
        _, values, vt = np.linalg.svd(self.normalized_factor())
        return values, vt.T

    def kept(self, k: int) -> int:
        """How many of the top ``k`` singular values are above the rank tolerance."""
        return min(k, int(np.sum(self.right_singular[0] > RANK_TOLERANCE)), self.n_rows)

    def top_right_vectors(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` singular values above the rank tolerance and their right vectors ``V_k``."""
        values, vectors = self.right_singular
        keep = self.kept(k)
        return values[:keep], vectors[:, :keep]


class Chunk:
    """Rows of ``R`` handed to a pass's consumers, through the few products they need.

    Every consumer reads a chunk only through these members, so the rows may be held densely
    (:class:`RowChunk`) or as a product of small factors
    (:class:`lookaround.theory.factored.FactoredChunk`) without the consumer knowing.
    ``mass``, ``labels`` and ``indicator`` run over the chunk's rows in one order; rows of
    zero mass, where a chunk keeps them, have a zero column in ``indicator``.
    """

    mass: np.ndarray
    labels: np.ndarray
    indicator: np.ndarray
    n_rows: int
    width: int

    def gram(self, scale: np.ndarray) -> np.ndarray:
        """``X^T X`` with ``X = diag(scale) R``, the chunk's rows scaled, shape (V, V)."""
        raise NotImplementedError

    def class_grams(self, scale: np.ndarray) -> np.ndarray:
        """``X_z^T X_z`` for each class ``z``, ``X_z`` the rows labelled ``z`` scaled by
        ``scale``, shape (r, V, V)."""
        raise NotImplementedError

    def scaled_rows(self, scale: np.ndarray) -> np.ndarray:
        """``Q^T X`` for some ``Q`` with orthonormal columns, ``X = diag(scale) R``: rows with
        ``X``'s QR factor (and Gram), at most as many as ``X`` has, shape (m, V)."""
        raise NotImplementedError

    def columns(self, matrix: np.ndarray) -> np.ndarray:
        """``(R @ matrix)^T``, shape (k, rows): a reduction over ``k`` runs along rows."""
        raise NotImplementedError

    def columns_at(self, matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
        """``columns(matrix)[:, index]``, computed for those rows only."""
        raise NotImplementedError

    def transposed_times(self, weights: np.ndarray) -> np.ndarray:
        """``R^T @ weights`` for ``weights`` of shape (rows, k), shape (V, k)."""
        raise NotImplementedError

    def supports(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Boolean supports over the targets, shape (G, V), and how many positive-mass rows
        have each (G,), None when each is one row; a support may repeat."""
        raise NotImplementedError

    def dense(self) -> RowChunk:
        """The positive-mass rows written out (for the rare consumer that needs them)."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class RowChunk(Chunk):
    """Positive-mass rows of ``R`` with what every consumer of a pass needs, computed once.

    Attributes
    ----------
    rows : ndarray, shape (n, V)
    mass : ndarray, shape (n,)
        Row sums (``P_c`` or ``P(x)``), all positive.
    class_joint : ndarray, shape (n, r)
        ``P(z, row)``.
    """

    rows: np.ndarray
    mass: np.ndarray
    class_joint: np.ndarray

    @property
    def classes(self) -> int:
        """``r``."""
        return self.class_joint.shape[1]

    @property
    def n_rows(self) -> int:  # type: ignore[override]
        """Rows, all of positive mass."""
        return self.rows.shape[0]

    @property
    def width(self) -> int:  # type: ignore[override]
        """``V``, the targets."""
        return self.rows.shape[1]

    # Computed on first use, by the consumers' thread: the thread that builds the rows is
    # the busier one (see as_chunks).
    @cached_property
    def labels(self) -> np.ndarray:  # type: ignore[override]
        """Bayes labels ``argmax_z P(z, row)``, shape (n,)."""
        return bayes_labels(self.class_joint)

    @cached_property
    def indicator(self) -> np.ndarray:  # type: ignore[override]
        """``Y^T``, shape (r, n): 1 where the row's label is ``z``; a product with it sums by
        label at BLAS speed."""
        return (np.arange(self.classes)[:, None] == self.labels[None, :]).astype(float)

    def gram(self, scale: np.ndarray) -> np.ndarray:
        return tall_product(self.scaled_rows(scale))

    def scaled_rows(self, scale: np.ndarray) -> np.ndarray:
        return self.rows * scale[:, None]

    def class_grams(self, scale: np.ndarray) -> np.ndarray:
        # one BLAS product per class on the rows masked to it, the last class's Gram being
        # the total's remainder
        grams = np.zeros((self.classes, self.width, self.width))
        present = np.flatnonzero(self.indicator.any(axis=1))
        remainder = self.gram(scale)
        for z in present[:-1]:
            grams[z] = self.gram(scale * self.indicator[z])
            remainder -= grams[z]
        grams[present[-1]] = remainder
        return grams

    def columns(self, matrix: np.ndarray) -> np.ndarray:
        return matrix.T @ self.rows.T

    def columns_at(self, matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
        return matrix.T @ self.rows[index].T

    def transposed_times(self, weights: np.ndarray) -> np.ndarray:
        return tall_product(self.rows, weights)

    def supports(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.rows > 0, None  # counting unweighted is 2x faster

    def dense(self) -> RowChunk:
        return self


def row_chunks(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]], min_rows: int = 65_536
) -> Iterator[RowChunk]:
    """``(rows, class_joint)`` blocks as :class:`RowChunk`, zero-mass rows dropped.

    Small blocks (objectives such as vmlm have ``T 2^(T-1)`` patterns, most of a few rows)
    are joined until a chunk has ``min_rows`` rows, so each consumer's per-chunk work (a Gram
    update, labels, a ``unique``) is paid per chunk, not per pattern. Each row's mass is
    summed once (from its class-joint), and a block with no zero row is passed on without a
    copy.

    Parameters
    ----------
    blocks : iterable of (rows, class_joint)
        The rows of ``R`` and their ``P(z, r)``.
    min_rows : int
        Rows a chunk gathers before it is handed on.

    Yields
    ------
    RowChunk
    """
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    count = 0
    for rows, class_joint in blocks:
        mass = class_joint @ np.ones(class_joint.shape[1])  # P(row) = sum_z P(z, row)
        keep = mass > 0
        if not keep.all():
            rows, class_joint, mass = rows[keep], class_joint[keep], mass[keep]
        if mass.size:
            pending.append((rows, class_joint, mass))
            count += mass.size
        if count >= min_rows:
            yield _chunk(pending)
            pending, count = [], 0
    if pending:
        yield _chunk(pending)


def _chunk(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> RowChunk:
    rows, class_joint, mass = parts[0] if len(parts) == 1 else map(_join, zip(*parts))
    return RowChunk(rows, mass, class_joint)


def _join(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate along rows, keeping column-major blocks column-major (as they come from
    :class:`lookaround.theory.cooccurrence.Block`): every consumer is faster on columns."""
    if arrays[0].ndim == 2 and arrays[0].flags.f_contiguous:
        return np.concatenate([a.T for a in arrays], axis=1).T
    return np.concatenate(arrays)


def run_pass(blocks: Iterable, consumers: list) -> None:
    """Feed every chunk of one pass over ``blocks`` to each consumer's ``add``.

    ``blocks`` are ``(rows, class_joint)`` pairs, or chunks already made (:class:`Chunk`: a
    cached pass reads them again without filtering or labelling anew). Passes are what streaming
    costs (a block not cached is rebuilt for each), so everything that needs only the
    previous pass's results shares one.

    Parameters
    ----------
    blocks : iterable
        ``(rows, class_joint)`` pairs or :class:`Chunk`.
    consumers : list
        Objects with ``add(chunk)``.
    """
    for chunk in as_chunks(blocks):
        for consumer in consumers:
            consumer.add(chunk)


def as_chunks(blocks: Iterable) -> Iterator[Chunk]:
    """``(rows, class_joint)`` pairs as :class:`RowChunk` (built on a second thread past the
    first two), or chunks passed on as they are.

    Parameters
    ----------
    blocks : iterable
        ``(rows, class_joint)`` pairs or :class:`Chunk`.

    Yields
    ------
    Chunk
    """
    if isinstance(blocks, list):  # cached chunks: nothing to build
        yield from blocks if not blocks or isinstance(blocks[0], Chunk) else row_chunks(blocks)
        return
    iterator = iter(blocks)
    first = next(iterator, None)
    if first is None:
        return
    rest = itertools.chain([first], iterator)
    # building the rows (forward passes, masses) takes about as long as consuming them: on
    # a second thread the two overlap, as numpy releases the GIL in both (vmlm at T = 14:
    # 3.4 s against 4.0 s). Chunks made elsewhere (the blanket path's) are cheap to make, so
    # the second thread also gives them their labels. A pass of one or two chunks, the
    # common small case, starts no thread: its hand-offs would cost more than they save.
    chunks = map(_labelled, rest) if isinstance(first, Chunk) else row_chunks(rest)
    for _ in range(2):  # the first two in this thread: most passes have one chunk only
        head = next(chunks, None)
        if head is None:
            return
        yield head
    yield from in_background(chunks) if producer_allowed() else chunks


def _labelled(chunk: Chunk) -> Chunk:
    chunk.indicator  # noqa: B018 - computed (with the masses and labels) on this thread
    return chunk


class _LabelMasses:
    """What both target-side builders add up beside their factor of the Gram: the label masses
    ``R^T Y`` (``P_t`` is their row sum, each row's labels summing to 1) and the rows."""

    def __init__(self) -> None:
        self.label_target: np.ndarray | None = None
        self.n_rows = 0

    def add_labels(self, chunk: Chunk) -> None:
        if self.label_target is None:
            self.label_target = np.zeros((chunk.width, chunk.indicator.shape[0]))
        self.label_target += chunk.transposed_times(chunk.indicator.T)
        self.n_rows += chunk.n_rows

    def labels_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """``P_t`` and ``R^T Y``; an error when no chunk had positive mass."""
        if self.label_target is None:
            raise ValueError("the co-occurrence has no positive mass")
        return self.label_target.sum(axis=1), self.label_target


class TargetSideBuilder(_LabelMasses):
    """Pass consumer: the target-side Gram ``R^T D_r^{-1} R`` and label masses ``R^T Y``, each
    one BLAS product per chunk (``P_t`` is the row sum of ``R^T Y``).

    :meth:`result` is None when the Gram is too ill-conditioned to give the small singular
    values to 1e-9; :func:`target_side_pass` then falls back to :class:`QRTargetSideBuilder`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.gram = np.zeros((0, 0))

    def add(self, chunk: Chunk) -> None:
        if not self.gram.size:
            self.gram = np.zeros((chunk.width, chunk.width))
        self.gram += chunk.gram(inverse_sqrt_mass(chunk.mass))
        self.add_labels(chunk)

    def result(self) -> TargetSide | None:
        mass_t, label_target = self.labels_so_far()
        scale = inverse_sqrt_mass(mass_t)
        normalized = np.linalg.eigvalsh(scale[:, None] * self.gram * scale[None, :])[::-1]
        resolved = min(int(np.sum(mass_t > 0)), self.n_rows)
        if normalized[resolved - 1] < GRAM_LIMIT:
            return None
        return TargetSide(mass_t, gram_factor(self.gram), label_target, self.n_rows)


def gram_factor(gram: np.ndarray) -> np.ndarray:
    """A square root ``F`` with ``F^T F = gram`` (symmetric positive semidefinite), from its
    eigendecomposition; rounding-level negative eigenvalues are clipped to 0.

    Parameters
    ----------
    gram : ndarray, shape (V, V)
        Symmetric positive semidefinite.

    Returns
    -------
    ndarray, shape (V, V)

    Examples
    --------
    >>> factor = gram_factor(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> np.allclose(factor.T @ factor, [[2.0, 1.0], [1.0, 2.0]])
    True
    """
    values, vectors = np.linalg.eigh(gram)
    return np.sqrt(np.maximum(values, 0.0))[:, None] * vectors.T


class QRTargetSideBuilder(_LabelMasses):
    """Pass consumer: the streaming QR factor of ``D_r^{-1/2} R``, accurate to rounding even
    for singular values near zero, at about ten times the Gram's cost. Each chunk gives its
    rows through :meth:`Chunk.scaled_rows`: a factored chunk's are ``r`` (or ``r H``) a
    blanket, not one a context."""

    def __init__(self) -> None:
        super().__init__()
        self.factor = np.zeros((0, 0))

    def add(self, chunk: Chunk) -> None:
        if not self.factor.shape[1]:
            self.factor = np.zeros((0, chunk.width))
        self.factor = qr_append(self.factor, chunk.scaled_rows(inverse_sqrt_mass(chunk.mass)))
        self.add_labels(chunk)

    def result(self) -> TargetSide:
        mass_t, label_target = self.labels_so_far()
        return TargetSide(mass_t, square_factor(self.factor), label_target, self.n_rows)


def target_side_pass(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]] | Iterable[Chunk], others: Sequence = ()
) -> TargetSide:
    """One pass over ``(rows, class_joint)`` blocks of ``R`` building its :class:`TargetSide`,
    with ``others`` fed the same chunks; a second, QR pass only when the Gram is
    ill-conditioned (``s_j^2 < GRAM_LIMIT`` for a resolved ``j``).

    Parameters
    ----------
    blocks : iterable of (rows, class_joint) or Chunk
        One pass over the rows of ``R``.
    others : sequence
        Further consumers fed the same chunks.

    Returns
    -------
    TargetSide

    Examples
    --------
    >>> rank_one = [(np.array([[0.25, 0.25], [0.25, 0.25]]), np.eye(2) / 2)]
    >>> target_side_pass(rank_one).singular_values(2).round(15).tolist()  # s_2 = 0, by the QR
    [1.0, 0.0]
    """
    builder = TargetSideBuilder()
    run_pass(blocks, [builder, *others])
    side = builder.result()
    if side is None:
        exact = QRTargetSideBuilder()
        run_pass(blocks, [exact])
        side = exact.result()
    return side


def accumulate_target_side(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]] | Iterable[Chunk],
) -> TargetSide:
    """One pass over ``(rows, class_joint)`` blocks of ``R``: mass, Gram factor, label masses.

    Parameters
    ----------
    blocks : iterable of (ndarray (n, V), ndarray (n, r))
        Rows of ``R`` and their class-joints ``P(z, row)`` (each summing to the row's mass);
        zero-mass rows are skipped.

    Returns
    -------
    TargetSide

    Examples
    --------
    >>> side = accumulate_target_side([(np.array([[0.25, 0.25], [0.0, 0.5]]), np.eye(2) / 2)])
    >>> side.target_mass.tolist(), side.n_rows
    ([0.25, 0.75], 2)
    """
    return target_side_pass(blocks)


def qr_append(factor: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Triangular factor of ``[factor; rows]``: one streaming QR step (``F^T F += rows^T rows``).

    Parameters
    ----------
    factor : ndarray
        The triangular factor so far.
    rows : ndarray
        Rows to add.

    Returns
    -------
    ndarray
    """
    return np.asarray(np.linalg.qr(np.vstack([factor, rows]), mode="r"))


def square_factor(factor: np.ndarray) -> np.ndarray:
    """Pad a factor of fewer rows than columns with zero rows, to ``V x V``.

    Parameters
    ----------
    factor : ndarray, shape (m, V)
        A factor with ``m <= V`` rows.

    Returns
    -------
    ndarray, shape (V, V)
    """
    width = factor.shape[1]
    if factor.shape[0] >= width:
        return factor
    return np.vstack([factor, np.zeros((width - factor.shape[0], width))])
