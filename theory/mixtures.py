"""The normal form of a source as a protocol: what drawing from it and converting it read.

:class:`lookaround.theory.sources.Source` holds these arrays and validates them; the modules
that only read them (:mod:`~lookaround.theory.sampling`, :mod:`~lookaround.theory.hmms`) take
any object that has them, so ``Source`` can offer their functions as its own methods without
two modules importing each other.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["Mixture"]


class Mixture(Protocol):
    """A mixture of ``r`` hidden Markov models over sequences of length ``T`` (docs/theory.md §2).

    Attributes
    ----------
    prior : ndarray, shape (r,)
        ``pi``.
    init : ndarray, shape (r, H)
        ``mu_z``.
    trans : ndarray, shape (r, T-1, H, H)
        ``A_{z,t}``.
    emit : ndarray, shape (r, T, H, V)
        ``B_{z,t}``.
    length : int
        ``T``.
    """

    # read-only, as a frozen Source's fields are
    @property
    def prior(self) -> np.ndarray: ...
    @property
    def init(self) -> np.ndarray: ...
    @property
    def trans(self) -> np.ndarray: ...
    @property
    def emit(self) -> np.ndarray: ...
    @property
    def length(self) -> int: ...
