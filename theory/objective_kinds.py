"""One record per kind of objective: its name grammar, parameter check, pattern count, exact law
and sampler, and whether a network trains it causally (docs/theory.md §3).

A kind is the part of an objective's name before the colon (``mlm`` in ``mlm:0.15``); its
record says everything the library knows of it. :mod:`lookaround.theory.objectives` builds
:class:`~lookaround.theory.objectives.Objective` and
:class:`~lookaround.theory.pattern_laws.PatternLaw` from these records alone, and the
transformer reads ``causal`` from them. Adding an objective is one :class:`ObjectiveKind` in
:data:`KINDS`, its twin in ``tests/brute.py`` and its paragraph in docs/theory.md §3.

A law adds ``P(S, i)`` into a table keyed by ``(S, i)`` tuples, as fractions, so that a pattern
reached in several ways adds exactly; a sampler draws the same law without enumerating it. An
*exchangeable* kind (mlm, vmlm, plm, aas: ``P(S, i)`` a function of ``|S|`` alone, and every
``(S, i)`` of a size it weighs a pattern) gives its law as those weights by size instead, from
which its patterns are written in order without the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from lookaround.base.errors import InputError

__all__ = ["KINDS", "ObjectiveKind", "mask_count"]

Key = tuple[tuple[int, ...], int]  # (S, i)
Law = Callable[[dict, int, str, str], None]  # (total, T, param, spec): adds P(S, i) into total
SizeLaw = Callable[[str, str, int], dict[int, Fraction]]  # (param, spec, T): P(S, i) by |S|
Draw = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
Sampler = Callable[[str, str, int], tuple[Draw, np.ndarray]]  # (draw, law of the target)


@dataclass(frozen=True)
class ObjectiveKind:
    """Everything the library knows of one kind of objective.

    Attributes
    ----------
    name : str
        The kind, the part of an objective's name before the colon (``"mlm"``).
    forms : tuple of str
        Its name grammar as the help and the errors print it (``"mlm:m"``, ``"mlm:RATIO"``).
    accepts : callable
        ``accepts(param) -> bool``: whether the text after the colon (``""`` for none) is of
        the kind's form; a value out of range is refused later by ``law`` with its own message.
    count : callable
        ``count(param, T) -> (patterns, visible positions)``: the ``(S, i)`` draws the law
        builds, counted with repetition, and the sum of their ``|S|``, before building them.
    law : callable or None
        ``law(total, T, param, spec)`` adds ``P(S, i)`` of every pattern into ``total``; None
        for an exchangeable kind, whose ``sizes`` are its law.
    sampler : callable
        ``sampler(param, spec, T) -> (draw, target_law)``: ``draw(rng, n)`` gives ``visible``
        (n, T) bool and ``target`` (n,), and ``target_law[t] = P(i = t)``, exact.
    prefixes : callable
        ``prefixes(param, spec, T) -> covered``: ``covered[l - 1]`` says whether the prefix
        pattern ``({0..l-1}, l)`` has positive weight (T3's coverage), without building the law.
    causal : bool
        Whether every context is a prefix ``S = {0..i-1}``, so that a network trains it with a
        causal mask on whole sequences instead of ``[MASK]`` tokens.
    sizes : callable or None
        An exchangeable kind's law: ``sizes(param, spec, T) -> {|S|: P(S, i)}``, the weight of
        each ``(S, i)`` with ``i`` not in ``S`` by the size of ``S`` (sizes of weight 0 left
        out).

    Examples
    --------
    >>> KINDS["mlm"].count("2", 5)
    (20, 60)
    >>> [k.name for k in KINDS.values() if k.causal]
    ['ar']
    >>> KINDS["mlm"].sizes("2", "mlm:2", 4)  # |S| = 2: C(4, 2) mask sets, 2 targets each
    {2: Fraction(1, 12)}
    """

    name: str
    forms: tuple[str, ...]
    accepts: Callable[[str], bool]
    count: Callable[[str, int], tuple[int, int]]
    law: Law | None
    sampler: Sampler
    prefixes: Callable[[str, str, int], np.ndarray]
    causal: bool = False
    sizes: SizeLaw | None = None

    def __post_init__(self) -> None:
        if (self.law is None) == (self.sizes is None):
            raise ValueError(f"objective kind {self.name!r}: give exactly one of law and sizes")


# --- parameters ---------------------------------------------------------------------------


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


def _number(param: str) -> int | None:
    """A count written in at most 18 digits, else None (refused later by the law)."""
    return int(param) if re.fullmatch(r"[0-9]{1,18}", param) else None


def mask_count(value: str, length: int) -> int:
    """The mask count ``m`` of ``mlm:VALUE`` at ``T = length``: a count, or a ratio rounded.

    Parameters
    ----------
    value : str
        The text after ``mlm:``: a count in digits or a ratio in ``(0, 1]`` such as ``0.15``.
    length : int
        ``T``.

    Returns
    -------
    int
        ``m``, in ``1..T``; a ratio gives ``max(1, round(RATIO * T))``.

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


# --- counts -------------------------------------------------------------------------------


def _masked_count(m: int, length: int) -> tuple[int, int]:
    return math.comb(length, m) * m, math.comb(length, m) * m * (length - m)


def _ar_count(param: str, length: int) -> tuple[int, int]:
    return (1, length - 1) if param == "last" else (length - 1, length * (length - 1) // 2)


def _dar_count(param: str, length: int) -> tuple[int, int]:
    number = _number(param)
    if number is None:
        return 0, 0
    prefixes = range(1, length)
    counts = [min(number, length - l) for l in prefixes]
    return sum(counts), sum(c * l for c, l in zip(counts, prefixes))


def _prefixlm_count(param: str, length: int) -> tuple[int, int]:
    return length * (length - 1) // 2, sum(l * (length - l) for l in range(1, length))


def _subsets_count(param: str, length: int) -> tuple[int, int]:
    """Every ``(S, i)`` with ``i`` not in ``S``: vmlm, plm and aas reach them all."""
    return length * 2 ** (length - 1), length * (length - 1) * 2 ** (length - 2)


def _mlm_count(param: str, length: int) -> tuple[int, int]:
    number = _number(param)
    if number is not None and 1 <= number <= length:
        return _masked_count(number, length)
    if "." in param:  # a ratio in (0, 1] at worst picks the mask count with the most patterns
        return max(_masked_count(m, length) for m in range(1, length + 1))
    return 0, 0


def _span_count(param: str, length: int) -> tuple[int, int]:
    m = _number(param)
    if m is None or not 1 <= m <= length:
        return 0, 0
    return (length - m + 1) * m, (length - m + 1) * m * (length - m)


# --- laws ---------------------------------------------------------------------------------


def _add(total: dict, key: Key, mass: Fraction) -> None:
    earlier = total.get(key)
    total[key] = mass if earlier is None else earlier + mass


def _masked(length: int, count: int, mass: Fraction) -> dict[int, Fraction]:
    """``mass`` spread as ``mlm:count``: a uniform mask set, a uniform target inside it."""
    return {length - count: mass / (math.comb(length, count) * count)}


def _ar_law(total: dict, length: int, param: str, spec: str) -> None:
    chosen = [length - 1] if param == "last" else list(range(1, length))
    for l in chosen:
        _add(total, (tuple(range(l)), l), Fraction(1, len(chosen)))


def _dar_law(total: dict, length: int, param: str, spec: str) -> None:
    reach = _dar_reach(param, spec, length)
    for l in range(1, length):
        steps = min(reach, length - l)
        for j in range(1, steps + 1):
            _add(total, (tuple(range(l)), l - 1 + j), Fraction(1, (length - 1) * steps))


def _mlm_sizes(param: str, spec: str, length: int) -> dict[int, Fraction]:
    return _masked(length, _mask_count(param, spec, length), Fraction(1))


def _vmlm_sizes(param: str, spec: str, length: int) -> dict[int, Fraction]:
    low, high = _vmlm_range(param, spec, length)
    mass = Fraction(1, high - low + 1)
    return {
        size: each for c in range(low, high + 1) for size, each in _masked(length, c, mass).items()
    }


def _prefixlm_law(total: dict, length: int, param: str, spec: str) -> None:
    for l in range(1, length):
        for i in range(l, length):
            _add(total, (tuple(range(l)), i), Fraction(1, (length - 1) * (length - l)))


def _span_law(total: dict, length: int, param: str, spec: str) -> None:
    count = _mask_count(param, spec, length)
    for start in range(length - count + 1):
        mask = range(start, start + count)
        visible = tuple(t for t in range(length) if t not in mask)
        for i in mask:
            _add(total, (visible, i), Fraction(1, (length - count + 1) * count))


def _plm_sizes(param: str, spec: str, length: int) -> dict[int, Fraction]:
    # Any-order AR: S is the first p entries of a uniform order and i the next one, so
    # P(S, i) = 1/T * 1/C(T,|S|) * 1/(T-|S|), with no enumeration of the T! orders: vmlm's law
    return _vmlm_sizes("", spec, length)


def _aas_sizes(param: str, spec: str, length: int) -> dict[int, Fraction]:
    # Any-subset: i uniform, each other position visible with probability 1/2, so every
    # (S, i) with i not in S has P = 1 / (T 2^(T-1)).
    each = Fraction(1, length * 2 ** (length - 1))
    return dict.fromkeys(range(length), each)


# --- samplers: the same laws drawn, for objectives too large to enumerate -------------------
# (mlm:0.15 at T = 64 has 10^13 patterns)


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


def _reach_sampler(reach: int, length: int) -> tuple[Draw, np.ndarray]:
    """A prefix of uniform length ``l`` and a target uniform on its next ``min(reach, T - l)``."""

    def draw_prefix(rng, n):
        l = rng.integers(1, length, size=n)
        return _prefix_draws(length, l, l + _uniform_below(rng, np.minimum(reach, length - l)))

    return draw_prefix, _prefix_targets(length, lambda l: min(reach, length - l))


def _ar_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    if param != "last":
        return _reach_sampler(1, length)

    def draw_last(rng, n):
        return _prefix_draws(length, np.full(n, length - 1), np.full(n, length - 1))

    return draw_last, np.eye(length)[length - 1]


def _dar_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    return _reach_sampler(_dar_reach(param, spec, length), length)


def _prefixlm_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    return _reach_sampler(length, length)


def _span_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    T, m = length, _mask_count(param, spec, length)

    def draw_span(rng, n):
        start = rng.integers(0, T - m + 1, size=n)
        target = start + rng.integers(0, m, size=n)
        index = np.arange(T)[None, :]
        return (index < start[:, None]) | (index >= start[:, None] + m), target

    law = np.zeros(T)
    for start in range(T - m + 1):
        law[start : start + m] += 1.0 / ((T - m + 1) * m)
    return draw_span, law


def _counts_sampler(low: int, high: int, length: int) -> tuple[Draw, np.ndarray]:
    """A mask count uniform on ``low..high``, a uniform mask set of it, a target inside; a
    uniform mask set makes every position equally likely as the target."""

    def draw(rng, n):
        return _masked_draws(rng, length, rng.integers(low, high + 1, size=n))

    return draw, np.full(length, 1.0 / length)


def _mlm_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    m = _mask_count(param, spec, length)
    return _counts_sampler(m, m, length)


def _vmlm_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    return _counts_sampler(*_vmlm_range(param, spec, length), length)


def _plm_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    # plm's law is vmlm's: |S| uniform on 0..T-1, S uniform of that size, i not in S
    return _counts_sampler(1, length, length)


def _aas_sampler(param: str, spec: str, length: int) -> tuple[Draw, np.ndarray]:
    def draw(rng, n):
        target = rng.integers(0, length, size=n)
        visible = rng.random((n, length)) < 0.5
        visible[np.arange(n), target] = False
        return visible, target

    return draw, np.full(length, 1.0 / length)


# --- prefix coverage: which prefix patterns ({0..l-1}, l) a law reaches (T3) -----------------


def _every_prefix(param: str, spec: str, length: int) -> np.ndarray:
    return np.ones(length - 1, dtype=bool)


def _ar_prefixes(param: str, spec: str, length: int) -> np.ndarray:
    return (
        np.arange(1, length) == length - 1 if param == "last" else _every_prefix("", spec, length)
    )


def _hidden_between(low: int, high: int, length: int) -> np.ndarray:
    """A masked law reaches ``({0..l-1}, l)`` iff it may hide exactly the ``T - l`` last
    positions: a mask count in ``low..high`` (a span of ``T - l`` is one of them too)."""
    hidden = length - np.arange(1, length)
    return (hidden >= low) & (hidden <= high)


def _mlm_prefixes(param: str, spec: str, length: int) -> np.ndarray:
    m = _mask_count(param, spec, length)
    return _hidden_between(m, m, length)


def _vmlm_prefixes(param: str, spec: str, length: int) -> np.ndarray:
    return _hidden_between(*_vmlm_range(param, spec, length), length)


def _no_param(param: str) -> bool:
    return not param


KINDS: dict[str, ObjectiveKind] = {
    kind.name: kind
    for kind in (
        ObjectiveKind("ar", ("ar", "ar:last"), lambda p: p in ("", "last"), _ar_count,
                      _ar_law, _ar_sampler, _ar_prefixes, causal=True),
        ObjectiveKind("dar", ("dar:J",), bool, _dar_count, _dar_law, _dar_sampler,
                      _every_prefix),
        ObjectiveKind("mlm", ("mlm:m", "mlm:RATIO"), bool, _mlm_count, None, _mlm_sampler,
                      _mlm_prefixes, sizes=_mlm_sizes),
        ObjectiveKind("vmlm", ("vmlm", "vmlm:LO-HI"), lambda p: True, _subsets_count, None,
                      _vmlm_sampler, _vmlm_prefixes, sizes=_vmlm_sizes),
        ObjectiveKind("prefixlm", ("prefixlm",), _no_param, _prefixlm_count, _prefixlm_law,
                      _prefixlm_sampler, _every_prefix),
        ObjectiveKind("span", ("span:m",), bool, _span_count, _span_law, _span_sampler,
                      _mlm_prefixes),
        ObjectiveKind("plm", ("plm",), _no_param, _subsets_count, None, _plm_sampler,
                      _every_prefix, sizes=_plm_sizes),
        ObjectiveKind("aas", ("aas",), _no_param, _subsets_count, None, _aas_sampler,
                      _every_prefix, sizes=_aas_sizes),
    )
}  # fmt: skip
"""Every kind of objective, by name, in the order the help lists them."""
