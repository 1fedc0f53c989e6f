"""Pretraining objectives as exact distributions over patterns ``(S, i)`` (docs/theory.md §3).

Weights are computed as fractions and rounded to float once, so patterns reached in several
ways (the same ``(S, i)``) add exactly and every objective sums to 1.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from lookaround.theory.errors import InputError

OBJECTIVE_FORMS = (
    "ar",
    "ar:last",
    "dar:J",
    "mlm:m",
    "mlm:RATIO",
    "vmlm",
    "vmlm:LO-HI",
    "prefixlm",
    "span:m",
    "plm",
)


@dataclass(frozen=True, order=True)
class Pattern:
    """``omega = (S, i)``: visible positions ``S`` and the target position ``i`` (not in ``S``)."""

    visible: tuple[int, ...]
    target: int


@dataclass(frozen=True, eq=False)
class Objective:
    """A distribution ``w`` over patterns for sequences of length ``T``.

    Attributes
    ----------
    name : str
        The string it was parsed from, e.g. ``"mlm:2"``.
    length : int
        ``T``.
    patterns : tuple of Pattern
        The support of ``w``, sorted.
    weights : ndarray
        ``w(omega)`` for each pattern; sums to 1.
    fractions : tuple of Fraction
        The same weights, exact (for symbolic work).
    """

    name: str
    length: int
    patterns: tuple[Pattern, ...]
    weights: np.ndarray
    fractions: tuple[Fraction, ...] = ()

    def weight_of(self, pattern: Pattern) -> float:
        """``w(omega)``, 0 for a pattern outside the support."""
        try:
            return float(self.weights[self.patterns.index(pattern)])
        except ValueError:
            return 0.0


def sample_pattern_indices(objective: Objective, n: int, seed: int) -> np.ndarray:
    """``n`` patterns drawn from ``w``, as indices into ``objective.patterns`` (seeded).

    The stream ``[seed, 1]`` is kept apart from the sequences drawn with ``seed``, so the
    same seed gives the same sequences whatever objective they are paired with.

    Examples
    --------
    >>> obj = parse_objective("ar:last", 4)
    >>> sample_pattern_indices(obj, 3, seed=0).tolist()
    [0, 0, 0]
    """
    return np.random.default_rng([seed, 1]).choice(
        len(objective.patterns), size=n, p=objective.weights
    )


def _int_param(value: str, what: str, spec: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(f"objective {spec!r}: {what} must be an integer, got {value!r}") from None


def _mask_count(value: str, spec: str, length: int) -> int:
    if "." in value:
        try:
            ratio = float(value)
        except ValueError:
            raise InputError(
                f"objective {spec!r}: mask ratio must be a number, got {value!r}"
            ) from None
        if not 0 < ratio <= 1:
            raise InputError(f"objective {spec!r}: mask ratio {ratio:g} outside (0, 1]")
        return max(1, round(ratio * length))
    count = _int_param(value, "mask count", spec)
    if not 1 <= count <= length:
        raise InputError(f"objective {spec!r}: mask count {count} outside 1..{length}")
    return count


def _masked(total: dict, length: int, count: int, mass: Fraction) -> None:
    """Add ``mass`` spread as ``mlm:count``: a uniform mask set, a uniform target inside it."""
    sets = list(itertools.combinations(range(length), count))
    each = mass / (len(sets) * count)
    for mask in sets:
        visible = tuple(t for t in range(length) if t not in mask)
        for i in mask:
            _add(total, Pattern(visible, i), each)


def _add(total: dict, pattern: Pattern, mass: Fraction) -> None:
    total[pattern] = total.get(pattern, Fraction(0)) + mass


def parse_objective(spec: str, length: int) -> Objective:
    """Build the exact pattern distribution of an objective string.

    Parameters
    ----------
    spec : str
        One of ``ar``, ``ar:last``, ``dar:J``, ``mlm:m``, ``mlm:RATIO`` (a float in (0, 1],
        ``m = max(1, round(RATIO*T))``), ``vmlm`` (``m ~ U{1..T}``), ``vmlm:LO-HI``
        (``m ~ U{LO..HI}``), ``prefixlm``, ``span:m``, ``plm``.
    length : int
        ``T``, at least 2.

    Returns
    -------
    Objective

    Examples
    --------
    >>> obj = parse_objective("ar", 3)
    >>> [(p.visible, p.target) for p in obj.patterns], obj.weights.tolist()
    ([((0,), 1), ((0, 1), 2)], [0.5, 0.5])
    >>> parse_objective("mlm:0.15", 10).name, len(parse_objective("mlm:0.15", 10).patterns)
    ('mlm:0.15', 90)
    """
    if not isinstance(length, int) or length < 2:
        raise InputError(f"objective {spec!r}: sequence length must be >= 2, got {length!r}")
    kind, _, param = str(spec).partition(":")
    total: dict[Pattern, Fraction] = {}
    prefixes = range(1, length)
    if kind == "ar" and param in ("", "last"):
        chosen = [length - 1] if param == "last" else list(prefixes)
        for l in chosen:
            _add(total, Pattern(tuple(range(l)), l), Fraction(1, len(chosen)))
    elif kind == "dar" and param:
        reach = _int_param(param, "J", spec)
        if reach < 1:
            raise InputError(f"objective {spec!r}: J must be >= 1, got {reach}")
        for l in prefixes:
            steps = min(reach, length - l)
            for j in range(1, steps + 1):
                _add(total, Pattern(tuple(range(l)), l - 1 + j), Fraction(1, (length - 1) * steps))
    elif kind == "mlm" and param:
        _masked(total, length, _mask_count(param, spec, length), Fraction(1))
    elif kind == "vmlm":
        low, high = 1, length
        if param:
            lo, sep, hi = param.partition("-")
            if not sep:
                raise InputError(f"objective {spec!r}: expected vmlm:LO-HI, e.g. vmlm:1-{length}")
            low, high = _mask_count(lo, spec, length), _mask_count(hi, spec, length)
            if low > high:
                raise InputError(f"objective {spec!r}: empty mask-count range {low}..{high}")
        for count in range(low, high + 1):
            _masked(total, length, count, Fraction(1, high - low + 1))
    elif kind == "prefixlm" and not param:
        for l in prefixes:
            for i in range(l, length):
                _add(total, Pattern(tuple(range(l)), i), Fraction(1, (length - 1) * (length - l)))
    elif kind == "span" and param:
        count = _mask_count(param, spec, length)
        for start in range(length - count + 1):
            mask = range(start, start + count)
            visible = tuple(t for t in range(length) if t not in mask)
            for i in mask:
                _add(total, Pattern(visible, i), Fraction(1, (length - count + 1) * count))
    elif kind == "plm" and not param:
        # Any-order AR: S is the first p entries of a uniform order and i the next one, so
        # P(S, i) = 1/T * 1/C(T,|S|) * 1/(T-|S|), with no enumeration of the T! orders.
        for size in range(length):
            each = Fraction(1, length * math.comb(length, size) * (length - size))
            for visible in itertools.combinations(range(length), size):
                for i in range(length):
                    if i not in visible:
                        _add(total, Pattern(visible, i), each)
    else:
        raise InputError(f"unknown objective {spec!r} (known: {', '.join(OBJECTIVE_FORMS)})")
    patterns = tuple(sorted(total))
    fractions = tuple(total[p] for p in patterns)
    return Objective(
        str(spec), length, patterns, np.array([float(f) for f in fractions]), fractions
    )
