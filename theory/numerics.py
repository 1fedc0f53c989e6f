"""The numerical operations every module shares: normalization, softmax, the rounding slack.

Each has one home here so that the context graph, the bounds, the trained models and the
evaluation normalize and compare in the same way, to the last bit.
"""

from __future__ import annotations

import re

import numpy as np

from lookaround.base.errors import InputError

__all__ = [
    "AMBIGUITY_TOL",
    "SLACK",
    "TIE_TOL",
    "inverse_sqrt_mass",
    "log_softmax",
    "normalize",
    "parse_integer",
    "parse_real",
    "softmax",
    "subspace_unique",
    "tall_product",
]

SLACK = 1e-12
"""Rounding slack when an exact float is compared with a bound or a limit it may touch."""

TIE_TOL = 1e-10
"""Scores within ``TIE_TOL`` (relative) of the top tie: the smallest such class is read."""

AMBIGUITY_TOL = 1e-9
"""The top-``k`` subspace is ambiguous where ``s_k - s_(k+1) <= AMBIGUITY_TOL``."""


def subspace_unique(spectrum: np.ndarray, k: int) -> bool:
    """Whether the top-``k`` singular (or eigen-) subspace is unique: ``s_k > s_(k+1)`` by
    more than :data:`AMBIGUITY_TOL`; where it is not, anything read off the top-``k``
    features (a probe, k-means) depends on the basis an eigensolver happens to return.

    Parameters
    ----------
    spectrum : ndarray
        ``s_1 >= s_2 >= ...`` (at least ``k + 1`` values, or past the rank).
    k : int
        The subspace dimension.

    Returns
    -------
    bool

    Examples
    --------
    >>> subspace_unique(np.array([1.0, 0.5, 0.2]), 1), subspace_unique(np.array([1.0, 0.5, 0.5]), 2)
    (True, False)
    """
    return bool(spectrum[k - 1] - spectrum[k] > AMBIGUITY_TOL)


def inverse_sqrt_mass(mass: np.ndarray) -> np.ndarray:
    """``D^{-1/2}`` as a vector, 0 where the mass is 0.

    Parameters
    ----------
    mass : ndarray
        Nonnegative masses.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> inverse_sqrt_mass(np.array([0.25, 0.0]))
    array([2., 0.])
    """
    # sqrt(1 / m): two correctly rounded operations, where pow(m, -0.5) is several times
    # slower and 1 / sqrt(m) misses 0.5's 2^(1/2) by an ulp
    inverse = np.divide(1.0, mass, out=np.zeros_like(mass), where=mass > 0)
    return np.sqrt(inverse, out=inverse)


TALL_PRODUCT_DOTS = 24
"""The most entries :func:`tall_product` computes as dot products of columns."""


def tall_product(left: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    """``left^T right`` for tall ``left`` (n, p) and ``right`` (n, q); ``left^T left`` when
    ``right`` is None.

    Up to :data:`TALL_PRODUCT_DOTS` entries (the Gram's upper triangle only) are dot products
    of columns: OpenBLAS's gemm is slow on a product with a small output and a long inner
    axis, 3.4x slower than three dot products for the ``V = 2`` Gram of 132,000 rows (263
    against 77 us), 1.7x at ``V = 6``, and faster again from ``V = 8``.

    Parameters
    ----------
    left : ndarray, shape (n, p)
        Tall; column-major is fastest.
    right : ndarray, shape (n, q), optional

    Returns
    -------
    ndarray, shape (p, q)

    Examples
    --------
    >>> rows = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> tall_product(rows).tolist(), tall_product(rows, rows[:, :1]).tolist()
    ([[35.0, 44.0], [44.0, 56.0]], [[35.0], [44.0]])
    """
    symmetric = right is None
    other = left if right is None else right
    p, q = left.shape[1], other.shape[1]
    if (p * (p + 1) // 2 if symmetric else p * q) > TALL_PRODUCT_DOTS:
        return left.T @ other
    columns = [left[:, i] for i in range(p)]
    others = columns if symmetric else [other[:, j] for j in range(q)]
    out = np.empty((p, q))
    for i in range(p):
        for j in range(i if symmetric else 0, q):
            out[i, j] = columns[i] @ others[j]
            if symmetric:
                out[j, i] = out[i, j]
    return out


def normalize(cooccurrence: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Abar = D_c^{-1/2} A D_t^{-1/2}``, with ``D_c^{-1/2}`` and ``D_t^{-1/2}`` as vectors.

    Rows (columns) of zero mass stay zero.

    Parameters
    ----------
    cooccurrence : ndarray, shape (contexts, V)
        ``A``, a joint law.

    Returns
    -------
    abar : ndarray
        ``Abar``.
    left, right : ndarray
        ``D_c^{-1/2}`` and ``D_t^{-1/2}`` as vectors (0 where the mass is 0).

    Examples
    --------
    >>> abar, left, right = normalize(np.array([[0.5, 0.0], [0.0, 0.5]]))
    >>> abar
    array([[1., 0.],
           [0., 1.]])
    """
    left = inverse_sqrt_mass(cooccurrence.sum(axis=1))
    right = inverse_sqrt_mass(cooccurrence.sum(axis=0))
    return cooccurrence * left[:, None] * right[None, :], left, right


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log softmax`` along the last axis, shifted by its maximum so that no exponential overflows.

    Parameters
    ----------
    logits : ndarray
        Scores; the last axis is normalized.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> np.exp(log_softmax(np.array([[0.0, 0.0]])))
    array([[0.5, 0.5]])
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """``softmax`` along the last axis, shifted by its maximum.

    Parameters
    ----------
    logits : ndarray
        Scores; the last axis is normalized.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


# ASCII decimals only: ``float`` also reads "0_4", "\u0664" (Arabic-Indic) and " inf ".
_REAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def parse_real(text: str, field: str) -> float:
    """A finite real written in ASCII decimal notation, else an InputError naming ``field``.

    Parameters
    ----------
    text : str
        What the user wrote.
    field : str
        Its name, as the message opens with it.

    Returns
    -------
    float

    Examples
    --------
    >>> parse_real("0.25", "stick"), parse_real("1e-2", "stick")
    (0.25, 0.01)
    >>> parse_real("0_4", "markov2.T")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: markov2.T must be a decimal number, got '0_4'
    """
    if not _REAL.fullmatch(text) or not np.isfinite(value := float(text)):
        raise InputError(f"{field} must be a decimal number, got {text[:40]!r}")
    return value


def parse_integer(text: str, field: str) -> int:
    """An integer of at most 18 ASCII digits, else an InputError naming ``field``.

    Parameters
    ----------
    text : str
        What the user wrote.
    field : str
        Its name, as the message opens with it.

    Returns
    -------
    int

    Examples
    --------
    >>> parse_integer("12", "--k")
    12
    >>> parse_integer("1" * 100, "--k")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: --k must be an integer of at most 18 digits, got '1111111111111111111111111111111111111111'
    """
    if not _INTEGER.fullmatch(text):
        raise InputError(f"{field} must be an integer of at most 18 digits, got {text[:40]!r}")
    return int(text)
