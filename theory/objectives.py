"""Pretraining objectives as exact distributions over patterns ``(S, i)`` (docs/theory.md §3).

Weights are computed as fractions and rounded to float once, so patterns reached in several
ways (the same ``(S, i)``) add exactly and every objective sums to 1.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.reprs import short_repr
from lookaround.base.seeds import streams

__all__ = [
    "PatternLaw",
    "pattern_law",
    "MAX_LENGTH",
    "MAX_PATTERNS",
    "MAX_POSITIONS",
    "OBJECTIVE_FORMS",
    "Objective",
    "Pattern",
    "as_objective",
    "mask_count",
    "objective_name",
    "parse_objective",
    "pattern_arrays",
    "pattern_count",
    "sample_pattern_indices",
]

MAX_LENGTH = 4096  # far past any exact analysis (V^T); the Monte Carlo modes go this far

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

    __repr__ = short_repr

    name: str
    length: int
    patterns: tuple[Pattern, ...]
    weights: np.ndarray
    fractions: tuple[Fraction, ...] = ()

    def by_target(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per target ``i``: the indices of its patterns and their sets ``S`` as bitmasks.

        Bitmasks are int64 up to ``T = 62`` and Python ints (dtype object) past it.

        Examples
        --------
        >>> parse_objective("mlm:1", 3).by_target()[1][1].tolist()  # S = {0, 2}
        [5]
        """
        return self._by_target

    @cached_property
    def _by_target(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        dtype = np.int64 if self.length <= 62 else object
        bits = [1 << t for t in range(self.length)]
        masks = np.array([sum([bits[t] for t in p.visible]) for p in self.patterns], dtype=dtype)
        targets = np.array([p.target for p in self.patterns])
        return {
            int(i): (np.flatnonzero(targets == i), masks[targets == i]) for i in np.unique(targets)
        }

    def weight_of(self, pattern: Pattern) -> float:
        """``w(omega)``, 0 for a pattern outside the support."""
        return self._weight_by_pattern.get(pattern, 0.0)

    @cached_property
    def _weight_by_pattern(self) -> dict[Pattern, float]:
        # A dict, not ``patterns.index``: a scan per lookup made coverage at T = 4096 cubic.
        return {p: float(w) for p, w in zip(self.patterns, self.weights)}


def pattern_arrays(patterns: Sequence[Pattern], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Visible masks (P, T) and target positions (P,) of a list of patterns.

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
    return np.random.default_rng(streams(seed).patterns).choice(
        len(objective.patterns), size=n, p=objective.weights
    )


MAX_PATTERNS = 2_000_000  # (S, i) pairs built exactly; vmlm and plm reach it at T = 17
MAX_POSITIONS = 50_000_000  # sum of |S| over the patterns: the tuples kept in memory
_NAME = re.compile(r"[a-z]+(:[0-9a-z.\-]+)?")


def _int_param(value: str, what: str, spec: str) -> int:
    # ASCII digits only: int() would also read "٢" and "1_0", and a sweep would then hash
    # one objective under several names
    if not re.fullmatch(r"[0-9]+", value):
        raise InputError(f"objective {spec!r}: {what} must be written in digits 0-9, got {value!r}")
    if len(value) > 18:  # past any length; int() of 4,300 digits would raise on its own
        raise InputError(
            f"objective {spec[:40]!r}: {what} has {len(value)} digits, past any length"
        )
    return int(value)


def mask_count(value: str, length: int) -> int:
    """The mask count ``m`` of ``mlm:VALUE`` at ``T = length``: a count, or a ratio rounded.

    Examples
    --------
    >>> mask_count("0.4", 5), mask_count("0.15", 3), mask_count("3", 8)
    (2, 1, 3)
    """
    return _mask_count(value, f"mlm:{value}", length)


def _mask_count(value: str, spec: str, length: int) -> int:
    if "." in value:
        if not re.fullmatch(r"[0-9]*\.[0-9]+", value):
            raise InputError(
                f"objective {spec!r}: mask ratio must be a decimal such as 0.15, got {value!r}"
            )
        ratio = float(value)
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
    earlier = total.get(pattern)
    total[pattern] = mass if earlier is None else earlier + mass


def pattern_count(kind: str, param: str, length: int) -> tuple[int, int]:
    """``(patterns, visible positions)`` an objective would build, before building it: the
    ``(S, i)`` draws counted with repetition, and the sum of their ``|S|``.

    Examples
    --------
    >>> pattern_count("vmlm", "", 30)
    (16106127360, 233538846720)
    >>> pattern_count("ar", "", 5)
    (4, 10)
    """
    T, prefixes = length, range(1, length)

    def masked(m: int) -> tuple[int, int]:
        return math.comb(T, m) * m, math.comb(T, m) * m * (T - m)

    if kind == "ar":
        return (1, T - 1) if param == "last" else (T - 1, T * (T - 1) // 2)
    number = int(param) if re.fullmatch(r"[0-9]{1,18}", param) else None  # else refused later
    if kind == "dar" and number is not None:
        counts = [min(number, T - l) for l in prefixes]
        return sum(counts), sum(c * l for c, l in zip(counts, prefixes))
    if kind == "prefixlm":
        return T * (T - 1) // 2, sum(l * (T - l) for l in prefixes)
    if kind in ("vmlm", "plm"):
        return T * 2 ** (T - 1), T * (T - 1) * 2 ** (T - 2)
    if kind in ("mlm", "span") and number is not None and 1 <= number <= T:
        m = number
        return masked(m) if kind == "mlm" else ((T - m + 1) * m, (T - m + 1) * m * (T - m))
    if kind == "mlm" and "." in param:
        # a ratio in (0, 1] at worst picks the mask count with the most patterns
        return max(masked(m) for m in range(1, T + 1))
    return 0, 0  # malformed parameters are refused by the parser with their own message


def _check_size(kind: str, param: str, spec: str, length: int) -> None:
    patterns, positions = pattern_count(kind, param, length)
    if patterns > MAX_PATTERNS or positions > MAX_POSITIONS:
        raise InputError(
            f"objective {spec!r} at T={length} has {_big(patterns)} patterns "
            f"({_big(positions)} visible positions), over the limit of {MAX_PATTERNS:.0e} "
            f"({MAX_POSITIONS:.0e}); use a shorter T or an objective with fewer patterns"
        )


def _big(count: int) -> str:
    """``1.61e+10`` for any integer, even one past the range of a float (``2^4095``)."""
    digits = str(count)
    return digits if len(digits) <= 4 else f"{digits[0]}.{digits[1:3]}e+{len(digits) - 1:02d}"


# Each pattern law adds P(S, i) of its objective into ``total``; ``param`` is the part after
# the colon, already known to be of the right presence (``_TAKES_PARAM``).
def _ar_law(total: dict, length: int, param: str, spec: str) -> None:
    chosen = [length - 1] if param == "last" else list(range(1, length))
    for l in chosen:
        _add(total, Pattern(tuple(range(l)), l), Fraction(1, len(chosen)))


def _dar_reach(param: str, spec: str, length: int) -> int:
    reach = _int_param(param, "J", spec)
    if not 2 <= reach <= length - 1:
        raise InputError(
            f"objective {spec!r}: dar:J needs 2 <= J <= T-1 = {length - 1}, got {reach} "
            f"(dar:1 is ar and dar:{length - 1} is prefixlm)"
        )
    return reach


def _vmlm_range(param: str, spec: str, length: int) -> tuple[int, int]:
    if not param:
        return 1, length
    lo, sep, hi = param.partition("-")
    if not sep:
        raise InputError(f"objective {spec!r}: expected vmlm:LO-HI, e.g. vmlm:1-{length}")
    low, high = _mask_count(lo, spec, length), _mask_count(hi, spec, length)
    if low > high:
        raise InputError(f"objective {spec!r}: empty mask-count range {low}..{high}")
    return low, high


def _dar_law(total: dict, length: int, param: str, spec: str) -> None:
    reach = _dar_reach(param, spec, length)
    for l in range(1, length):
        steps = min(reach, length - l)
        for j in range(1, steps + 1):
            _add(total, Pattern(tuple(range(l)), l - 1 + j), Fraction(1, (length - 1) * steps))


def _mlm_law(total: dict, length: int, param: str, spec: str) -> None:
    _masked(total, length, _mask_count(param, spec, length), Fraction(1))


def _vmlm_law(total: dict, length: int, param: str, spec: str) -> None:
    low, high = _vmlm_range(param, spec, length)
    for count in range(low, high + 1):
        _masked(total, length, count, Fraction(1, high - low + 1))


def _prefixlm_law(total: dict, length: int, param: str, spec: str) -> None:
    for l in range(1, length):
        for i in range(l, length):
            _add(total, Pattern(tuple(range(l)), i), Fraction(1, (length - 1) * (length - l)))


def _span_law(total: dict, length: int, param: str, spec: str) -> None:
    count = _mask_count(param, spec, length)
    for start in range(length - count + 1):
        mask = range(start, start + count)
        visible = tuple(t for t in range(length) if t not in mask)
        for i in mask:
            _add(total, Pattern(visible, i), Fraction(1, (length - count + 1) * count))


def _plm_law(total: dict, length: int, param: str, spec: str) -> None:
    # Any-order AR: S is the first p entries of a uniform order and i the next one, so
    # P(S, i) = 1/T * 1/C(T,|S|) * 1/(T-|S|), with no enumeration of the T! orders.
    for size in range(length):
        each = Fraction(1, length * math.comb(length, size) * (length - size))
        for visible in itertools.combinations(range(length), size):
            for i in range(length):
                if i not in visible:
                    _add(total, Pattern(visible, i), each)


_LAWS: dict[str, Callable[[dict, int, str, str], None]] = {
    "ar": _ar_law,
    "dar": _dar_law,
    "mlm": _mlm_law,
    "vmlm": _vmlm_law,
    "prefixlm": _prefixlm_law,
    "span": _span_law,
    "plm": _plm_law,
}
# Which parameters each kind accepts (a False answer makes the name unknown).
_TAKES_PARAM: dict[str, Callable[[str], bool]] = {
    "ar": lambda param: param in ("", "last"),
    "dar": bool,
    "mlm": bool,
    "vmlm": lambda param: True,
    "prefixlm": lambda param: not param,
    "span": bool,
    "plm": lambda param: not param,
}


def _split_name(spec: str, length: int) -> tuple[str, str]:
    """The one check of an objective's name and length: ``(kind, param)`` of a known form."""
    if isinstance(length, bool) or not isinstance(length, int) or not 2 <= length <= MAX_LENGTH:
        raise InputError(
            f"objective {spec!r}: sequence length must be an integer in [2, {MAX_LENGTH}], "
            f"got {length!r}"
        )
    if not isinstance(spec, str) or not _NAME.fullmatch(spec):
        raise InputError(
            f"objective {spec!r} is not a name such as ar, dar:2, mlm:0.15 or vmlm:1-3 "
            "(ASCII, no spaces)"
        )
    kind, _, param = spec.partition(":")
    takes_param = _TAKES_PARAM.get(kind)
    if takes_param is None or not takes_param(param):
        raise InputError(f"unknown objective {spec!r} (known: {', '.join(OBJECTIVE_FORMS)})")
    return kind, param


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
    kind, param = _split_name(spec, length)
    _check_size(kind, param, spec, length)
    total: dict[Pattern, Fraction] = {}
    _LAWS[kind](total, length, param, spec)
    # sorted as Pattern orders them, by plain tuples (the dataclass comparison is 3x slower)
    patterns = tuple(sorted(total, key=lambda p: (p.visible, p.target)))
    fractions = tuple(total[p] for p in patterns)
    weights = np.array([f.numerator / f.denominator for f in fractions])  # float(f), faster
    return Objective(str(spec), length, patterns, weights, fractions)


# Samplers of the same laws, for objectives too large to enumerate (mlm:0.15 at T = 64 has
# 10^13 patterns). Each returns ``visible`` (n, T) bool and ``target`` (n,) for n draws.
def _masked_draws(
    rng: np.random.Generator, length: int, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A uniform mask set of each size in ``counts``, and a uniform target inside it."""
    ranks = np.argsort(np.argsort(rng.random((counts.size, length)), axis=1), axis=1)
    chosen = (rng.random(counts.size) * counts).astype(int)
    return ranks >= counts[:, None], np.argmax(ranks == chosen[:, None], axis=1)


def _prefix_draws(length: int, prefix: np.ndarray, target: np.ndarray):
    return np.arange(length)[None, :] < prefix[:, None], target


def _uniform_below(rng: np.random.Generator, bound: np.ndarray) -> np.ndarray:
    """One uniform integer in ``0..bound-1`` per entry."""
    return (rng.random(bound.size) * bound).astype(int)


def _prefix_targets(length: int, steps: Callable[[int], int]) -> np.ndarray:
    """Law of ``i`` when ``l`` is uniform on ``1..T-1`` and ``i`` uniform on ``l..l+steps(l)-1``."""
    law = np.zeros(length)
    for l in range(1, length):
        law[l : l + steps(l)] += 1.0 / ((length - 1) * steps(l))
    return law


def _sampler(kind: str, param: str, spec: str, length: int) -> tuple[Callable, np.ndarray]:
    """``(draw, law of the target position)`` of one objective."""
    T = length
    if kind == "ar" and param == "last":

        def draw_last(rng, n):
            return _prefix_draws(T, np.full(n, T - 1), np.full(n, T - 1))

        return draw_last, np.eye(T)[T - 1]
    if kind in ("ar", "dar", "prefixlm"):
        reach = {"ar": 1, "dar": _dar_reach(param, spec, T) if kind == "dar" else 0, "prefixlm": T}[
            kind
        ]

        def draw_prefix(rng, n):
            l = rng.integers(1, T, size=n)
            return _prefix_draws(T, l, l + _uniform_below(rng, np.minimum(reach, T - l)))

        return draw_prefix, _prefix_targets(T, lambda l: min(reach, T - l))
    if kind == "span":
        m = _mask_count(param, spec, T)

        def draw_span(rng, n):
            start = rng.integers(0, T - m + 1, size=n)
            target = start + rng.integers(0, m, size=n)
            index = np.arange(T)[None, :]
            return (index < start[:, None]) | (index >= start[:, None] + m), target

        law = np.zeros(T)
        for start in range(T - m + 1):
            law[start : start + m] += 1.0 / ((T - m + 1) * m)
        return draw_span, law
    # mlm, vmlm and plm (whose law is vmlm's: |S| uniform on 0..T-1, S uniform, i not in S);
    # a uniform mask set makes every position equally likely as the target
    low, high = (
        (1, T)
        if kind == "plm"
        else _vmlm_range(param, spec, T)
        if kind == "vmlm"
        else (_mask_count(param, spec, T),) * 2
    )

    def draw(rng, n):
        return _masked_draws(rng, T, rng.integers(low, high + 1, size=n))

    return draw, np.full(T, 1.0 / T)  # fmt: skip


@dataclass(frozen=True)
class PatternLaw:
    """An objective's law of patterns ``(S, i)``, drawn without enumerating its patterns.

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

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``visible`` (n, T) bool and ``target`` (n,) int of ``n`` independent patterns."""
        return self.sampler(rng, n)


def as_objective(value: object, length: int, what: str = "objective") -> Objective:
    """The one place a library function takes an objective: an :class:`Objective` of length
    ``length``, or a name that :func:`parse_objective` reads at that length.

    Examples
    --------
    >>> as_objective("mlm:2", 5).name
    'mlm:2'
    >>> as_objective(2, 5)
    Traceback (most recent call last):
    ...
    TypeError: objective must be an Objective or an objective name (str), got int
    """
    if isinstance(value, str):
        return parse_objective(value, length)
    if not isinstance(value, Objective):
        raise TypeError(
            f"{what} must be an Objective or an objective name (str), got {type(value).__name__}"
        )
    if value.length != length:
        raise InputError(
            f"{what} {value.name!r} is built for T = {value.length}, the source has T = {length}"
        )
    return value


def objective_name(value: object, what: str = "objective") -> str:
    """An objective's name, from a name or an :class:`Objective` (for functions that draw
    patterns from the name's law instead of enumerating them)."""
    if isinstance(value, Objective):
        return value.name
    if isinstance(value, str):
        return value
    raise TypeError(
        f"{what} must be an Objective or an objective name (str), got {type(value).__name__}"
    )


def pattern_law(spec: str, length: int) -> PatternLaw:
    """The pattern law of ``spec`` at length ``T``, checked as :func:`parse_objective` checks it.

    Examples
    --------
    >>> visible, target = pattern_law("ar", 5).draw(np.random.default_rng(0), 2)
    >>> visible.astype(int).tolist(), target.tolist()
    ([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], [4, 3])
    """
    kind, param = _split_name(spec, length)
    return PatternLaw(spec, length, *_sampler(kind, param, spec, length))
