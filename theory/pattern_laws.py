"""Patterns drawn from an objective's law, without enumerating them, or from its table.

The Monte Carlo estimates, the sample-level training data and the networks draw ``(S, i)``
here: from the kind's sampler (:class:`PatternLaw`, any ``T`` up to 4096), or as indices into
an enumerated objective's patterns (:func:`sample_pattern_indices`); either way as a visible
mask and a target per draw (:func:`pattern_arrays` writes patterns so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lookaround.base.seeds import streams
from lookaround.theory.objective_kinds import KINDS
from lookaround.theory.objectives import Objective, Pattern, split_name

__all__ = ["PatternLaw", "pattern_arrays", "pattern_law", "sample_pattern_indices"]


@dataclass(frozen=True)
class PatternLaw:
    """An objective's law of patterns ``(S, i)``, drawn without enumerating its patterns.

    Attributes
    ----------
    name : str
        The objective's name.
    length : int
        ``T``.
    sampler : callable
        ``sampler(rng, n) -> (visible, target)``.
    target_law : ndarray, shape (T,)
        ``P(i = t)``, exact.
    prefixes : ndarray of bool, shape (T - 1,)
        ``prefixes[l - 1]``: whether the prefix pattern ``({0..l-1}, l)`` has positive
        weight, so the population-optimal predictor generates at ``l`` (T3's coverage).
    causal : bool
        Whether every context is a prefix (the objective's kind says).

    Examples
    --------
    >>> law = pattern_law("mlm:0.15", 64)
    >>> visible, target = law.draw(np.random.default_rng(0), 3)
    >>> visible.sum(axis=1).tolist(), bool(np.all(~visible[np.arange(3), target]))
    ([54, 54, 54], True)
    """

    name: str
    length: int
    sampler: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
    target_law: np.ndarray  # P(i = t), t = 0..T-1, exact
    prefixes: np.ndarray  # covered[l - 1]: the prefix pattern ({0..l-1}, l) has weight
    causal: bool = False  # every context a prefix: trained with a causal mask (ObjectiveKind)

    @property
    def last_only(self) -> bool:
        """Whether the law's only target is the last position (``ar:last``)."""
        return bool(self.target_law[-1] == 1.0)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``visible`` (n, T) bool and ``target`` (n,) int of ``n`` independent patterns."""
        return self.sampler(rng, n)


def pattern_law(spec: str, length: int) -> PatternLaw:
    """The pattern law of ``spec`` at length ``T``, checked as :func:`lookaround.theory.objectives.parse_objective` checks it.

    Parameters
    ----------
    spec : str
        An objective's name (:func:`parse_objective`).
    length : int
        ``T``.

    Returns
    -------
    PatternLaw

    Examples
    --------
    >>> visible, target = pattern_law("ar", 5).draw(np.random.default_rng(0), 2)
    >>> visible.astype(int).tolist(), target.tolist()
    ([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], [4, 3])
    """
    kind, param = split_name(spec, length)
    record = KINDS[kind]
    draw, target_law = record.sampler(param, spec, length)
    covered = record.prefixes(param, spec, length)
    return PatternLaw(spec, length, draw, target_law, covered, causal=record.causal)


def sample_pattern_indices(objective: Objective, n: int, seed: int) -> np.ndarray:
    """``n`` patterns drawn from ``w``, as indices into ``objective.patterns`` (seeded).

    The stream ``[seed, 1]`` is kept apart from the sequences drawn with ``seed``, so the
    same seed gives the same sequences whatever objective they are paired with.

    Parameters
    ----------
    objective : Objective
        The objective.
    n : int
        Patterns to draw.
    seed : int
        Their seed.

    Returns
    -------
    ndarray of int, shape (n,)

    Examples
    --------
    >>> from lookaround.theory.objectives import parse_objective
    >>> obj = parse_objective("ar:last", 4)
    >>> sample_pattern_indices(obj, 3, seed=0).tolist()
    [0, 0, 0]
    """
    return np.random.default_rng(streams(seed).patterns).choice(
        len(objective.patterns), size=n, p=objective.weights
    )


def pattern_arrays(patterns: Sequence[Pattern], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Visible masks (P, T) and target positions (P,) of a list of patterns.

    Parameters
    ----------
    patterns : sequence of Pattern
        The patterns.
    length : int
        ``T``.

    Returns
    -------
    visible : ndarray of bool, shape (P, T)
    target : ndarray of int, shape (P,)

    Examples
    --------
    >>> visible, target = pattern_arrays([Pattern((0, 2), 1)], 3)
    >>> visible.astype(int).tolist(), target.tolist()
    ([[1, 0, 1]], [1])
    """
    visible = np.zeros((len(patterns), length), dtype=bool)
    for j, p in enumerate(patterns):
        visible[j, list(p.visible)] = True
    return visible, np.array([p.target for p in patterns], dtype=np.int64)
