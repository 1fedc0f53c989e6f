"""T1's optimal features as an embedding: every context and every sequence as a point in ``R^k``.

:func:`~lookaround.theory.analysis.analyze` reports what the features achieve; this module
returns the features themselves, the way scikit-learn's ``spectral_embedding`` and graspologic's
``AdjacencySpectralEmbed`` return theirs (docs/theory.md §5.1):

- the context level's ``F_k = D_c^{-1/2} U_k``, whose row ``c`` is ``f*(c) = P(.|c) Phi``, with
  ``Phi = D_t^{-1/2} V_k S_k^{-1}`` (``target_features``);
- the sample level's ``D_x^{-1/2} U'_k`` from the SVD of ``Qbar``: the eigenvectors of the
  normalized sample graph ``D_x^{-1/2} P(x) K D_x^{-1/2}``, scaled as
  ``sklearn.manifold.spectral_embedding`` scales its own (``u / sqrt(degree)``). That function
  is not the same map on ``K``: scipy's Laplacian drops a graph's self-loops, and ``K(x, x)``
  is where a sample meets itself;
- the averaged context features ``h(x) = sum_c P(c|x) f*(c)`` that T2''s averaged probe reads.

Every spectrum comes from the ``V x V`` target-side Gram; nothing quadratic in contexts or
sequences is formed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lookaround.base.reprs import Presented, short_repr
from lookaround.theory.bounds import spectral_features
from lookaround.theory.cooccurrence import DEFAULT_CHUNK, build_cooccurrence, sample_stream
from lookaround.theory.limits import check_k, check_request
from lookaround.theory.objectives import Objective, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source
from lookaround.theory.spectral import accumulate_target_side

__all__ = ["Embedding", "spectral_embedding"]

_ROWS = 4096  # rows of A turned dense at a time


@dataclass(frozen=True, eq=False)
class Embedding(Presented):
    """T1's top-``k`` spectral features of one source and objective.

    Column ``j`` belongs to ``s_{j+1}``; the first column is the trivial direction
    (``f_1 = ±1`` on every context, the sign the solver's, as the constant eigenvector scikit-learn drops with
    ``drop_first=True``). Directions with ``s_j`` below the rank tolerance are left out, so
    the arrays may have fewer than ``k`` columns.

    Attributes
    ----------
    source, objective : str
        Their names.
    k : int
        The dimension asked for.
    singular_values : ndarray, shape (k',)
        ``s_1 >= ... >= s_k'`` of ``Abar`` (``singular_values[j]`` is ``s_{j+1}``).
    target_features : ndarray, shape (V, k')
        ``Phi = D_t^{-1/2} V_k S_k^{-1}``.
    context_features : ndarray, shape (n_c, k')
        ``f*(c) = P(.|c) Phi``, one row per context of positive mass, in the order of
        :func:`~lookaround.theory.cooccurrence.build_cooccurrence`.
    context_labels : tuple of str
        Each context as ``'x0=2 x2=1 -> x1'``.
    context_mass : ndarray, shape (n_c,)
        ``P_c``.
    context_classes : ndarray, shape (n_c,)
        The Bayes class ``argmax_z P(z | c)``.
    sequences : ndarray, shape (V^T, T)
        Every sequence, in lexicographic order.
    sequence_mass : ndarray, shape (V^T,)
        ``P(x)``.
    sequence_classes : ndarray, shape (V^T,)
        The Bayes class ``argmax_z P(z | x)``.
    sample_values : ndarray, shape (k'',)
        ``s_i(Qbar)``: ``sample_values**2`` are the sample level's ``eigenvalues``.
    sequence_features : ndarray, shape (V^T, k'')
        The sample graph's own spectral embedding ``D_x^{-1/2} U'_k`` (0 where ``P(x) = 0``).
    averaged_features : ndarray, shape (V^T, k')
        ``h(x) = P(.|x) Phi`` (0 where ``P(x) = 0``).
    """

    __repr__ = short_repr

    source: str
    objective: str
    k: int
    singular_values: np.ndarray
    target_features: np.ndarray
    context_features: np.ndarray
    context_labels: tuple[str, ...]
    context_mass: np.ndarray
    context_classes: np.ndarray
    sequences: np.ndarray
    sequence_mass: np.ndarray
    sequence_classes: np.ndarray
    sample_values: np.ndarray
    sequence_features: np.ndarray
    averaged_features: np.ndarray

    def to_dict(self) -> dict:
        """Every field, arrays as nested lists (``summary()`` and ``to_frame()`` read it)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def spectral_embedding(source: Source | str, objective: Objective | str, k: int) -> Embedding:
    """The top-``k`` spectral features of every context and sequence (T1's optimum).

    Parameters
    ----------
    source : Source or str
        A source, or a name :func:`~lookaround.theory.presets.resolve_source` reads.
    objective : Objective or str
        Of the source's length, or a name :func:`parse_objective` reads at that length.
    k : int
        Feature dimension, ``1 <= k <= V``.

    Returns
    -------
    Embedding

    Examples
    --------
    >>> emb = spectral_embedding("topic", "ar", 2)
    >>> emb.context_features.shape, emb.sequence_features.shape
    ((84, 2), (256, 2))
    >>> bool(np.allclose(np.abs(emb.context_features[:, 0]), 1.0))  # f_1 = ±1: trivial
    True
    >>> round(float(emb.singular_values[1]), 4)  # s_2, as analyze reports it
    0.3219
    """
    source = as_source(source)
    objective = as_objective(objective, source.length)
    check_k(k, source.vocab)
    check_request(source, objective, "both", chunk=DEFAULT_CHUNK)
    co = build_cooccurrence(source, objective)
    side = accumulate_target_side(list(_dense_rows(co.matrix, co.class_joint)))
    phi = spectral_features(side, k)
    rows = np.asarray(co.matrix.sum(axis=1)).ravel()
    context_features = np.asarray(co.matrix @ phi) / rows[:, None]
    tokens, q, joint = (np.concatenate(part) for part in zip(*sample_stream(source, objective)))
    sample = accumulate_target_side([(q, joint)])
    return Embedding(
        source=source.name,
        objective=objective.name,
        k=k,
        singular_values=side.top_right_vectors(k)[0],
        target_features=phi,
        context_features=context_features,
        context_labels=tuple(co.context_label(c) for c in range(rows.size)),
        context_mass=rows,
        context_classes=np.argmax(co.class_joint, axis=1),
        sequences=tokens,
        sequence_mass=q.sum(axis=1),
        sequence_classes=np.argmax(joint, axis=1),
        sample_values=sample.top_right_vectors(k)[0],
        sequence_features=_read(q, spectral_features(sample, k)),
        averaged_features=_read(q, phi),
    )


def _dense_rows(matrix, joint: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, matrix.shape[0], _ROWS):
        yield matrix[start : start + _ROWS].toarray(), joint[start : start + _ROWS]


def _read(q: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``P(.|x) features`` for every row of ``q``, 0 on rows of no mass."""
    mass = q.sum(axis=1)
    out = np.zeros((q.shape[0], features.shape[1]))
    live = mass > 0
    out[live] = (q[live] @ features) / mass[live, None]
    return out
