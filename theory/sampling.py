"""Seeded draws of sequences and their latent classes from a source's model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import streams
from lookaround.theory.mixtures import Mixture

__all__ = ["SequenceSample", "draw_sequences", "sample_sequences"]


@dataclass(frozen=True, eq=False)
class SequenceSample(Presented):
    """Sequences drawn from a source, with the class each was drawn from.

    Attributes
    ----------
    tokens : ndarray of int, shape (n, T)
        ``x_0..x_{T-1}`` of each sequence.
    classes : ndarray of int, shape (n,)
        Its latent class ``z``.
    """

    __repr__ = short_repr

    tokens: np.ndarray
    classes: np.ndarray


def sample_sequences(source: Mixture, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` sequences and their latent classes, seeded.

    Parameters
    ----------
    source : Source or Mixture
        The source.
    n : int
        Sequences, at least 1.
    seed : int
        Their seed (the ``draws`` stream).

    Returns
    -------
    classes : ndarray, shape (n,)
    tokens : ndarray, shape (n, T)

    Examples
    --------
    >>> from lookaround.theory.sources import source_from_dict
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[1.0, 0.0], [0.0, 1.0]], "length": 3})
    >>> z, x = sample_sequences(src, 4, seed=0)
    >>> bool(np.all(x == z[:, None]))
    True
    """
    if n < 1:
        raise InputError(f"sample count must be >= 1, got {n}")
    return draw_sequences(source, n, np.random.default_rng(streams(seed).draws))


def _cumulative(probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=-1)
    cum[..., -1] = 1.0  # rounding never leaves a uniform draw above the last category
    return cum


def _categorical(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per entry of ``rows`` from the law whose cumulative sums are ``cum[row]``.

    A uniform ``u`` picks the first category with ``cum > u``, found by one bisection run on
    every entry at once (``log2 V`` gathers of ``n`` numbers): no per-law loop, and never an
    (n, V) table. "``cum > u``" is monotone along a row even where rounding left the sum just
    above 1 before its last entry was set to 1, so this is ``searchsorted(side="right")``.
    """
    u = rng.random(rows.size)
    width = cum.shape[-1]
    flat, base = cum.reshape(-1), rows * width
    low, high = np.zeros(rows.size, dtype=np.int64), np.full(rows.size, width - 1)
    for _ in range((width - 1).bit_length()):
        mid = (low + high) >> 1
        above = flat[base + mid] > u
        high = np.where(above, mid, high)
        low = np.where(above, low, mid + 1)
    return low


def draw_sequences(
    source: Mixture, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_sequences` with a generator of the caller's (e.g. one chunk of a run).

    Parameters
    ----------
    source : Source or Mixture
        The source.
    n : int
        Sequences.
    rng : numpy.random.Generator
        The generator they are drawn with.

    Returns
    -------
    classes : ndarray of int, shape (n,)
    tokens : ndarray of int, shape (n, T)
    """
    r, states = source.init.shape
    classes = _categorical(rng, _cumulative(source.prior)[None, :], np.zeros(n, dtype=np.int64))
    hidden = _categorical(rng, _cumulative(source.init), classes)
    emit, trans = _cumulative(source.emit), _cumulative(source.trans)
    tokens = np.empty((n, source.length), dtype=np.int64)
    for t in range(source.length):
        tokens[:, t] = _categorical(
            rng, emit[:, t].reshape(r * states, -1), classes * states + hidden
        )
        if t < source.length - 1:
            hidden = _categorical(
                rng, trans[:, t].reshape(r * states, -1), classes * states + hidden
            )
    return classes, tokens
