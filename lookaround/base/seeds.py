"""Every named random stream of lookaround, derived from one seed.

A run takes one integer seed. Each random choice made under it draws from a named stream,
``numpy.random.SeedSequence(entropy)`` with the entropy listed in ``_ENTROPY``; a held-out
set is a whole second run, so it gets a derived integer seed instead (``_SUBSEEDS``). These
two tables are the one place the streams are told apart. The entropies are the ones the
toolkit has always used, so every result keeps its bits; the pairs in ``LEGACY_SHARED``
share an entropy for that reason alone (they are never used for the same draws), and a test
checks that no other two names of one seed coincide.

Examples
--------
>>> s = streams(3)
>>> s.patterns.entropy, s.minibatches.entropy, s.heldout
([3, 1], [3, 2], 1000006)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["LEGACY_SHARED", "SeedLike", "Streams", "as_seed", "streams"]

SeedLike = int | np.random.SeedSequence | np.random.Generator


def as_seed(seed: SeedLike) -> int:
    """The one integer seed a run derives every stream from, from what numpy users pass: an
    int (itself), a :class:`~numpy.random.SeedSequence` (63 bits of its state, the same every
    time) or a :class:`~numpy.random.Generator` (one draw of it, which advances it: a fixed
    generator state gives a fixed seed). Results record the integer, so a run is repeated
    with it.

    Parameters
    ----------
    seed : int, SeedSequence or Generator
        What numpy users pass as a seed.

    Returns
    -------
    int

    Examples
    --------
    >>> as_seed(7), as_seed(np.random.SeedSequence(7)) == as_seed(np.random.SeedSequence(7))
    (7, True)
    >>> as_seed(np.random.default_rng(0)) == as_seed(np.random.default_rng(0))
    True
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a SeedSequence or a Generator, got {seed!r}")
    return int(seed)


_ENTROPY: dict[str, Callable[[int], int | list[int]]] = {
    "draws": lambda seed: seed,  # sequences (and their classes) drawn from a source
    "init": lambda seed: seed,  # a model's initial weights
    "restarts": lambda seed: seed,  # restarts of an optimizer or of k-means
    "rows": lambda seed: seed,  # rows sampled for an estimate over contexts
    "patterns": lambda seed: [seed, 1],  # which pattern each draw uses
    "minibatches": lambda seed: [seed, 2],  # the shared model's batches
    "bootstrap": lambda seed: [seed, 3],  # resampled draws of the sampled mode
    "monte_carlo": lambda seed: [seed, 4],  # contexts of the exact-conditional Monte Carlo
    "evaluation": lambda seed: [seed, 5],  # held-out draws of a network's sampled evaluation
    "folds": lambda seed: [seed, 6],  # the cross-fitting folds of a belief map
}
_SUBSEEDS: dict[str, Callable[[int], int]] = {
    "heldout": lambda seed: seed + 1_000_003,  # held-out sequences of one simulated run
    "bundle_heldout": lambda seed: seed + 7,  # held-out sequences shared by a claim-table source
}
LEGACY_SHARED = frozenset({"draws", "init", "restarts", "rows"})


@dataclass(frozen=True)
class Streams:
    """The :class:`numpy.random.SeedSequence` of each named stream of one seed, and the
    integer seeds of its held-out runs.

    Attributes
    ----------
    draws, init, restarts, rows, patterns, minibatches, bootstrap, monte_carlo, evaluation, folds : SeedSequence
        One independent stream each: sequences drawn, initial weights, restarts, sampled rows,
        patterns, minibatches, bootstrap resamples, Monte Carlo draws, the held-out
        sequences and patterns of a network's sampled evaluation, and the cross-fitting
        folds of a belief map.
    heldout, bundle_heldout : int
        The seeds of the held-out sequences (kept as integers, as earlier releases drew them).
    """

    draws: np.random.SeedSequence
    init: np.random.SeedSequence
    restarts: np.random.SeedSequence
    rows: np.random.SeedSequence
    patterns: np.random.SeedSequence
    minibatches: np.random.SeedSequence
    bootstrap: np.random.SeedSequence
    monte_carlo: np.random.SeedSequence
    evaluation: np.random.SeedSequence
    folds: np.random.SeedSequence
    heldout: int
    bundle_heldout: int


def streams(seed: int) -> Streams:
    """The named random streams of ``seed``; pass one to ``numpy.random.default_rng``.

    Parameters
    ----------
    seed : int
        The run's one seed.

    Returns
    -------
    Streams

    Examples
    --------
    >>> gen = np.random.default_rng(streams(0).patterns)
    >>> bool(gen.integers(10) == np.random.default_rng([0, 1]).integers(10))
    True
    """
    sequences = {name: np.random.SeedSequence(make(seed)) for name, make in _ENTROPY.items()}
    subseeds = {name: make(seed) for name, make in _SUBSEEDS.items()}
    return Streams(**sequences, **subseeds)  # pyright: ignore[reportArgumentType] (named above)
