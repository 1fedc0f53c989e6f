"""Spectra of bipartite co-occurrences from their small target side.

A row-target matrix ``R`` (contexts x targets for ``A``, samples x targets for ``Q``) defines a
two-hop graph ``R D_t^{-1} R^T`` over its rows. Its normalized spectrum is that of
``Rbar = D_r^{-1/2} R D_t^{-1/2}``, whose rows are never all needed at once: a streaming QR
keeps the ``V x V`` triangular factor of ``D_r^{-1/2} R``, and the singular values of
``factor D_t^{-1/2}`` are those of ``Rbar``, accurate to rounding even near zero (the Gram's
eigenvalues would give them only to ``sqrt(eps)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from lookaround.theory.sources import bayes_labels

__all__ = [
    "RANK_TOLERANCE",
    "RowChunk",
    "TargetSide",
    "TargetSideBuilder",
    "accumulate_target_side",
    "qr_append",
    "row_chunks",
    "run_pass",
    "square_factor",
]

RANK_TOLERANCE = 1e-8


@dataclass(frozen=True, eq=False)
class TargetSide:
    """Everything the theory needs from one pass over the rows of ``R``.

    Attributes
    ----------
    target_mass : ndarray, shape (V,)
        ``P_t``, the column sums of ``R``.
    factor : ndarray, shape (V, V)
        Upper-triangular ``F`` with ``F^T F = R^T D_r^{-1} R``.
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
        scale = np.zeros_like(self.target_mass)
        positive = self.target_mass > 0
        scale[positive] = self.target_mass[positive] ** -0.5
        return self.factor * scale[None, :]

    def singular_values(self, count: int | None = None) -> np.ndarray:
        """``s_1 >= s_2 >= ...`` of ``Rbar``, zero-padded to ``count`` (0 past the rank).

        Examples
        --------
        >>> side = accumulate_target_side([(np.array([[0.5, 0.0], [0.0, 0.5]]), np.eye(2))])
        >>> side.singular_values(3).tolist()
        [1.0, 1.0, 0.0]
        """
        values = np.linalg.svd(self.normalized_factor(), compute_uv=False)
        values = np.minimum(values[: min(self.n_rows, values.size)], 1.0)
        if count is not None and count > values.size:
            values = np.concatenate([values, np.zeros(count - values.size)])
        return values

    def top_right_vectors(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` singular values above the rank tolerance and their right vectors ``V_k``."""
        _, values, vt = np.linalg.svd(self.normalized_factor())
        keep = min(k, int(np.sum(values > RANK_TOLERANCE)), self.n_rows)
        return values[:keep], vt[:keep].T


@dataclass(frozen=True, eq=False)
class RowChunk:
    """Positive-mass rows of ``R`` with what every consumer of a pass needs, computed once.

    Attributes
    ----------
    rows : ndarray, shape (n, V)
    mass : ndarray, shape (n,)
        Row sums (``P_c`` or ``P(x)``), all positive.
    labels : ndarray, shape (n,)
        Bayes labels ``argmax_z P(z, row)``.
    classes : int
        ``r``.
    """

    rows: np.ndarray
    mass: np.ndarray
    labels: np.ndarray
    classes: int


def row_chunks(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]], min_rows: int = 65_536
) -> Iterator[RowChunk]:
    """``(rows, class_joint)`` blocks as :class:`RowChunk`, zero-mass rows dropped.

    Small blocks (objectives such as vmlm have ``T 2^(T-1)`` patterns, most of a few rows)
    are joined until a chunk has ``min_rows`` rows, so each consumer's per-chunk work (a QR
    step, labels, a ``unique``) is paid per chunk, not per pattern.
    """
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    count = 0
    for rows, class_joint in blocks:
        keep = rows.sum(axis=1) > 0
        if np.any(keep):
            pending.append((rows[keep], class_joint[keep]))
            count += int(keep.sum())
        if count >= min_rows:
            yield _chunk(pending)
            pending, count = [], 0
    if pending:
        yield _chunk(pending)


def _chunk(parts: list[tuple[np.ndarray, np.ndarray]]) -> RowChunk:
    rows = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    class_joint = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return RowChunk(rows, rows.sum(axis=1), bayes_labels(class_joint), class_joint.shape[1])


def run_pass(blocks: Iterable[tuple[np.ndarray, np.ndarray]], consumers: list) -> None:
    """Feed every chunk of one pass over ``blocks`` to each consumer's ``add``.

    Passes are what streaming costs (a block not cached is rebuilt for each), so everything
    that needs only the previous pass's results shares one.
    """
    for chunk in row_chunks(blocks):
        for consumer in consumers:
            consumer.add(chunk)


class TargetSideBuilder:
    """Pass consumer: mass, streaming QR factor and label masses of ``R``."""

    def __init__(self) -> None:
        self.factor = self.mass_t = self.label_target = None
        self.n_rows = 0

    def add(self, chunk: RowChunk) -> None:
        if self.factor is None:
            width = chunk.rows.shape[1]
            self.factor = np.zeros((0, width))
            self.mass_t = np.zeros(width)
            self.label_target = np.zeros((width, chunk.classes))
        self.factor = qr_append(self.factor, chunk.rows / np.sqrt(chunk.mass)[:, None])
        self.mass_t += chunk.rows.sum(axis=0)
        for z in np.unique(chunk.labels):
            self.label_target[:, z] += chunk.rows[chunk.labels == z].sum(axis=0)
        self.n_rows += chunk.rows.shape[0]

    def result(self) -> TargetSide:
        if self.factor is None:
            raise ValueError("the co-occurrence has no positive mass")
        return TargetSide(self.mass_t, square_factor(self.factor), self.label_target, self.n_rows)


def accumulate_target_side(blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> TargetSide:
    """One pass over ``(rows, class_joint)`` blocks of ``R``: mass, QR factor, label masses.

    Parameters
    ----------
    blocks : iterable of (ndarray (n, V), ndarray (n, r))
        Rows of ``R`` and their class-joints ``P(z, row)``; zero-mass rows are skipped.

    Returns
    -------
    TargetSide

    Examples
    --------
    >>> side = accumulate_target_side([(np.array([[0.25, 0.25], [0.0, 0.5]]), np.eye(2))])
    >>> side.target_mass.tolist(), side.n_rows
    ([0.25, 0.75], 2)
    """
    builder = TargetSideBuilder()
    run_pass(blocks, [builder])
    return builder.result()


def qr_append(factor: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Triangular factor of ``[factor; rows]``: one streaming QR step (``F^T F += rows^T rows``)."""
    return np.linalg.qr(np.vstack([factor, rows]), mode="r")


def square_factor(factor: np.ndarray) -> np.ndarray:
    """Pad a factor of fewer rows than columns with zero rows, to ``V x V``."""
    width = factor.shape[1]
    if factor.shape[0] >= width:
        return factor
    return np.vstack([factor, np.zeros((width - factor.shape[0], width))])
