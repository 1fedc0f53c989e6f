"""Training and held-out data: sequences from a source, patterns from an objective, seeded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.errors import InputError
from theory.objectives import Objective, Pattern
from theory.sources import Source, sample_sequences


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


def draw_patterns(source: Source, objective: Objective, n: int, seed: int) -> PatternDraws:
    """Draw ``n`` sequences and one pattern each, seeded (the same seed, the same draws).

    Examples
    --------
    >>> from theory.presets import preset_source
    >>> from theory.objectives import parse_objective
    >>> d = draw_patterns(preset_source("topic"), parse_objective("ar", 4), 5, seed=0)
    >>> d.tokens.shape, d.targets.shape
    ((5, 4), (5,))
    """
    if objective.length != source.length:
        raise InputError(
            f"objective length {objective.length} differs from source.length {source.length}"
        )
    classes, tokens = sample_sequences(source, n, seed)
    rng = np.random.default_rng([seed, 1])
    index = rng.choice(len(objective.patterns), size=n, p=objective.weights)
    return PatternDraws(classes, tokens, index, objective)


def context_offsets(objective: Objective, vocab: int) -> np.ndarray:
    """Start of each pattern's ``V^|S|`` block in a dense index over all contexts."""
    sizes = [vocab ** len(p.visible) for p in objective.patterns]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def visible_index(pattern: Pattern, tokens: np.ndarray, vocab: int) -> np.ndarray:
    """Mixed-radix index of ``x_S`` for each row of ``tokens`` (as in ``theory.cooccurrence``)."""
    if not pattern.visible:
        return np.zeros(tokens.shape[0], dtype=np.int64)
    columns = tuple(tokens[:, list(pattern.visible)].T)
    return np.ravel_multi_index(columns, (vocab,) * len(pattern.visible))


def dense_context_ids(draws: PatternDraws, vocab: int) -> np.ndarray:
    """Global context id ``offset(omega) + index(x_S)`` of each draw."""
    offsets = context_offsets(draws.objective, vocab)
    ids = np.empty(draws.tokens.shape[0], dtype=np.int64)
    for j, pattern in enumerate(draws.objective.patterns):
        rows = np.flatnonzero(draws.pattern_index == j)
        ids[rows] = offsets[j] + visible_index(pattern, draws.tokens[rows], vocab)
    return ids
