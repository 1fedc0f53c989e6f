"""Training and held-out data: sequences from a source, patterns from an objective, seeded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.theory.cooccurrence import context_offsets, visible_index
from lookaround.theory.limits import check_lengths
from lookaround.theory.objectives import Objective
from lookaround.theory.pattern_laws import sample_pattern_indices
from lookaround.theory.sampling import sample_sequences
from lookaround.theory.sources import Source

__all__ = ["PatternDraws", "dense_context_ids", "draw_patterns"]


@dataclass(frozen=True, eq=False)
class PatternDraws:
    """``n`` draws of ``(z, x, omega)``: the latent class, the sequence and a pattern of ``w``.

    Attributes
    ----------
    classes : ndarray, shape (n,)
    tokens : ndarray, shape (n, T)
    pattern_index : ndarray, shape (n,)
        Index into ``objective.patterns``.
    objective : Objective
    """

    classes: np.ndarray
    tokens: np.ndarray
    pattern_index: np.ndarray
    objective: Objective

    @property
    def targets(self) -> np.ndarray:
        """The target token ``x_i`` of each draw."""
        positions = np.array([p.target for p in self.objective.patterns])[self.pattern_index]
        return self.tokens[np.arange(self.tokens.shape[0]), positions]


def draw_patterns(source: Source, objective: Objective, n: int, *, seed: int) -> PatternDraws:
    """Draw ``n`` sequences and one pattern each, seeded (the same seed, the same draws).

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective whose patterns are drawn.
    n : int
        Draws.
    seed : int
        Their seed.

    Returns
    -------
    PatternDraws

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> d = draw_patterns(preset_source("topic"), parse_objective("ar", 4), 5, seed=0)
    >>> d.tokens.shape, d.targets.shape
    ((5, 4), (5,))
    """
    check_lengths(source, objective)
    classes, tokens = sample_sequences(source, n, seed)
    index = sample_pattern_indices(objective, n, seed)
    return PatternDraws(classes, tokens, index, objective)


def dense_context_ids(draws: PatternDraws, vocab: int) -> np.ndarray:
    """Global context id ``offset(omega) + index(x_S)`` of each draw.

    Parameters
    ----------
    draws : PatternDraws
        Drawn sequences and patterns.
    vocab : int
        ``V``.

    Returns
    -------
    ndarray of int
    """
    offsets = context_offsets(draws.objective, vocab)
    ids = np.empty(draws.tokens.shape[0], dtype=np.int64)
    for j, pattern in enumerate(draws.objective.patterns):
        rows = np.flatnonzero(draws.pattern_index == j)
        ids[rows] = offsets[j] + visible_index(pattern.visible, draws.tokens[rows], vocab)
    return ids
