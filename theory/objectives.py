"""Pretraining objectives as exact distributions over patterns ``(S, i)`` (docs/theory.md §3).

Weights are computed as fractions and rounded to float once, so patterns reached in several
ways (the same ``(S, i)``) add exactly and every objective sums to 1.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from lookaround.base.allocator import collector_paused
from lookaround.base.errors import InputError
from lookaround.base.reprs import short_repr
from lookaround.theory.exchangeable import bitmasks, ordered_sets, set_masks
from lookaround.theory.objective_kinds import KINDS

__all__ = [
    "MASK_LENGTH",
    "MAX_LENGTH",
    "MAX_PATTERNS",
    "MAX_POSITIONS",
    "OBJECTIVE_FORMS",
    "Objective",
    "Pattern",
    "as_objective",
    "name_pattern_count",
    "objective_name",
    "parse_objective",
    "pattern_count",
    "split_name",
]

_TABLE = ("patterns", "weights", "fractions")  # an Objective's fields built together
MAX_LENGTH = 4096  # far past any exact analysis (V^T); the Monte Carlo modes go this far
MASK_LENGTH = 62
"""The longest ``T`` whose visible sets are int64 bitmasks (past it, Python ints). An exact
analysis never goes past it: ``V^(T-1)`` contexts and more."""

OBJECTIVE_FORMS = tuple(form for kind in KINDS.values() for form in kind.forms)


@dataclass(frozen=True, order=True)
class Pattern:
    """``omega = (S, i)``: visible positions ``S`` and the target position ``i`` (not in ``S``).

    Attributes
    ----------
    visible : tuple of int
        ``S``, sorted.
    target : int
        ``i``.
    """

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

    Notes
    -----
    An exchangeable objective (:meth:`exchangeable`: mlm, vmlm, plm, aas) builds its table,
    the three fields above, when one is first read (``weights`` alone, from its sets'
    bitmasks, up to ``T = 62``): an exact analysis reads none but ``weights`` on the row
    path, and vmlm at ``T = 16`` has 524,288 patterns, 0.5 s of Python objects.
    """

    __repr__ = short_repr

    name: str
    length: int
    patterns: tuple[Pattern, ...]
    weights: np.ndarray
    # a factory, not a default: no class attribute, so a table not yet built is looked up
    # through __getattr__
    fractions: tuple[Fraction, ...] = field(default_factory=tuple)

    @classmethod
    def exchangeable(cls, name: str, length: int, sizes: dict[int, Fraction]) -> Objective:
        """The objective of weight ``sizes[|S|]`` on every ``(S, i)``, ``i`` not in ``S``,
        of the sizes given; its table is built when first read.

        Examples
        --------
        >>> from fractions import Fraction
        >>> obj = Objective.exchangeable("mlm:1", 3, {2: Fraction(1, 3)})
        >>> obj.support_size(), [(p.visible, p.target) for p in obj.patterns][:2]
        (3, [((0, 1), 2), ((0, 2), 1)])
        """
        objective = object.__new__(cls)
        for name_, value in (("name", name), ("length", length), ("_by_size", dict(sizes))):
            object.__setattr__(objective, name_, value)
        return objective

    if not TYPE_CHECKING:  # the checker reads the fields above

        def __getattr__(self, name: str) -> object:
            # reached only when normal lookup fails: a field of a table not built yet
            sizes = self.__dict__.get("_by_size")
            if sizes is None or name not in _TABLE:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            if name == "weights" and self._by_sets():  # the row path's: no pattern is built
                law = np.array([_float(sizes.get(k, Fraction(0))) for k in range(self.length)])
                self.__dict__["weights"] = law[self._sizes]
                return self.weights
            with collector_paused():
                patterns, fractions = _exchangeable(sizes, self.length)
            built = {"patterns": patterns, "weights": _floats(fractions), "fractions": fractions}
            for field_name in _TABLE:  # weights already read stay (the same floats)
                self.__dict__.setdefault(field_name, built[field_name])
            return self.__dict__[name]

    def holds_table(self) -> bool:
        """Whether the pattern table is built (see Notes).

        Examples
        --------
        >>> obj = parse_objective("vmlm", 4)
        >>> obj.holds_table(), len(obj.patterns), obj.holds_table()
        (False, 32, True)
        """
        return "patterns" in self.__dict__

    def weighted_patterns(self) -> Iterator[tuple[tuple[int, ...], int, float]]:
        """``(S, i, w(S, i))`` of every pattern, in order, without building a table.

        Examples
        --------
        >>> next(parse_objective("vmlm", 4).weighted_patterns())
        ((), 0, 0.0625)
        """
        sizes = self.__dict__.get("_by_size")
        if sizes is None or self.holds_table():
            for pattern, weight in zip(self.patterns, self.weights):
                yield pattern.visible, pattern.target, float(weight)
            return
        law = self._size_law
        assert law is not None  # read from the sizes
        for visible, targets in ordered_sets(sizes, self.length):
            weight = law[len(visible)]
            for target in targets:
                yield visible, target, weight

    def support_size(self) -> int:
        """How many patterns there are, ``|supp w|``, without building a table.

        Examples
        --------
        >>> parse_objective("vmlm", 16).support_size()  # T 2^(T-1)
        524288
        """
        return int(self._size_counts.sum())

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
        masks, targets = self._masks, self._targets
        return {
            int(i): (np.flatnonzero(targets == i), masks[targets == i]) for i in np.unique(targets)
        }

    @cached_property
    def _sets(self) -> tuple[np.ndarray, np.ndarray]:
        """An exchangeable objective's sets as bitmasks and sizes, in table order (the row
        path reads patterns through them, without the table)."""
        return set_masks(self.__dict__["_by_size"], self.length)

    def _by_sets(self) -> bool:
        """Whether the pattern arrays come from :attr:`_sets` (exchangeable, ``T <= 62``)."""
        return "_by_size" in self.__dict__ and self.length <= MASK_LENGTH

    @cached_property
    def _targets(self) -> np.ndarray:
        """``i`` of each pattern."""
        if self._by_sets():
            bits = (self._sets[0][:, None] >> np.arange(self.length)) & 1
            return np.nonzero(bits == 0)[1]  # each set's complement, ascending
        return np.fromiter((p.target for p in self.patterns), np.int64, len(self.patterns))

    @cached_property
    def _masks(self) -> np.ndarray:
        """Each pattern's ``S`` as a bitmask: int64 up to :data:`MASK_LENGTH`, else Python
        ints (once per objective: the sizing and the passes both read them)."""
        if self._by_sets():
            masks, counts = self._sets
            return np.repeat(masks, self.length - counts)
        if self.length > MASK_LENGTH:
            bits = [1 << t for t in range(self.length)]
            return np.array([sum([bits[t] for t in p.visible]) for p in self.patterns], object)
        sizes = self._sizes
        flat = np.fromiter(
            itertools.chain.from_iterable(p.visible for p in self.patterns), np.int64, sizes.sum()
        )
        return bitmasks(flat, sizes)

    @cached_property
    def _sizes(self) -> np.ndarray:
        """``|S|`` of each pattern."""
        if self._by_sets():
            counts = self._sets[1]
            return np.repeat(counts, self.length - counts)
        return np.fromiter((len(p.visible) for p in self.patterns), np.int64, len(self.patterns))

    @cached_property
    def _size_counts(self) -> np.ndarray:
        """Patterns by ``|S|``: an array of ``T`` counts, so that a sum over patterns is
        ``O(T)`` however many they are (``T 2^(T-1)`` for vmlm)."""
        sizes = self.__dict__.get("_by_size")
        if sizes is None:
            return np.bincount(self._sizes, minlength=self.length)
        counts = np.zeros(self.length, np.int64)
        for size in sizes:  # every (S, i) of the size: C(T, |S|) sets, T - |S| targets each
            counts[size] = math.comb(self.length, size) * (self.length - size)
        return counts

    def context_count(self, vocab: int) -> int:
        """``sum_omega V^|S|``: the contexts of every pattern, zero-mass ones included.

        Examples
        --------
        >>> parse_objective("ar", 3).context_count(2)  # x_0, then (x_0, x_1)
        6
        """
        return sum(int(count) * vocab**size for size, count in enumerate(self._size_counts))

    def visible_positions(self) -> int:
        """``sum_omega |S|``: the visible positions of every pattern.

        Examples
        --------
        >>> parse_objective("ar", 3).visible_positions()  # {0}, then {0, 1}
        3
        """
        return int(self._size_counts @ np.arange(self.length))

    def largest_visible(self) -> int:
        """``max_omega |S|``: the most positions a pattern sees.

        Examples
        --------
        >>> parse_objective("ar", 4).largest_visible()
        3
        """
        return int(np.flatnonzero(self._size_counts)[-1])

    def visible_set_count(self) -> int:
        """How many distinct visible sets ``S`` the patterns have.

        Examples
        --------
        >>> parse_objective("mlm:1", 4).visible_set_count(), parse_objective("ar", 4).visible_set_count()
        (4, 3)
        """
        law = self.size_law()
        if law is not None:  # every set of those sizes
            return sum(math.comb(self.length, size) for size in law)
        return int(np.unique(self._masks).size)

    def size_law(self) -> dict[int, float] | None:
        """``w(S, i)`` by ``|S|``, when it depends on ``|S|`` alone and every ``(S, i)`` (``i``
        not in ``S``) of each size it weighs is a pattern: mlm, vmlm, plm and aas. Such an
        objective's structure is known without reading its patterns (the window path's
        rectangles, docs/theory.md §4.7, and the sizing read it). None for any other.

        Examples
        --------
        >>> parse_objective("mlm:1", 4).size_law()
        {3: 0.25}
        >>> parse_objective("ar", 4).size_law() is None
        True
        """
        return self._size_law

    @cached_property
    def _size_law(self) -> dict[int, float] | None:
        known = self.__dict__.get("_by_size")
        if known is not None:
            return {size: _float(known[size]) for size in sorted(known)}
        length, sizes = self.length, self._sizes
        law: dict[int, float] = {}
        for size in np.flatnonzero(self._size_counts):
            # the patterns are distinct (S, i) with i not in S: as many as there are means all
            if self._size_counts[size] != math.comb(length, size) * (length - size):
                return None
            weights = self.weights[sizes == size]
            if np.any(weights != weights[0]):
                return None
            law[int(size)] = float(weights[0])
        return law

    def weight_of(self, pattern: Pattern) -> float:
        """``w(omega)``, 0 for a pattern outside the support.

        Examples
        --------
        >>> obj = parse_objective("vmlm", 4)
        >>> obj.weight_of(Pattern((0, 1, 2), 3)), obj.weight_of(Pattern((0, 1), 1))
        (0.0625, 0.0)
        """
        sizes = self.__dict__.get("_by_size")
        if sizes is None or self.holds_table():
            return self._weight_by_pattern.get(pattern, 0.0)
        visible, target = pattern.visible, pattern.target
        ordered = all(a < b for a, b in zip(visible, visible[1:]))
        inside = all(0 <= p < self.length for p in (*visible, target))
        if not (ordered and inside) or target in visible or len(visible) not in sizes:
            return 0.0
        return _float(sizes[len(visible)])

    @cached_property
    def _weight_by_pattern(self) -> dict[Pattern, float]:
        # A dict, not ``patterns.index``: a scan per lookup made coverage at T = 4096 cubic.
        return {p: float(w) for p, w in zip(self.patterns, self.weights)}


MAX_PATTERNS = 2_000_000  # (S, i) pairs built exactly; vmlm and plm reach it at T = 17
MAX_POSITIONS = 50_000_000  # sum of |S| over the patterns: the tuples kept in memory
_NAME = re.compile(r"[a-z]+(:[0-9a-z.\-]+)?")


def pattern_count(kind: str, param: str, length: int) -> tuple[int, int]:
    """``(patterns, visible positions)`` an objective would build, before building it: the
    ``(S, i)`` draws counted with repetition, and the sum of their ``|S|``.

    Parameters
    ----------
    kind : str
        The objective's kind, its name before the colon (a key of
        :data:`lookaround.theory.objective_kinds.KINDS`).
    param : str
        The text after the colon, ``""`` for none.
    length : int
        ``T``.

    Returns
    -------
    tuple of int
        ``(0, 0)`` for a kind or parameter the parser refuses with its own message.

    Examples
    --------
    >>> pattern_count("vmlm", "", 30)
    (16106127360, 233538846720)
    >>> pattern_count("ar", "", 5)
    (4, 10)
    """
    return KINDS[kind].count(param, length) if kind in KINDS else (0, 0)


def name_pattern_count(name: str, length: int) -> int:
    """How many ``(S, i)`` patterns the objective ``name`` builds at ``length``, before
    building it (:func:`pattern_count` of its kind and parameter).

    Parameters
    ----------
    name : str
        An objective's name, such as ``mlm:2``.
    length : int
        ``T``.

    Returns
    -------
    int
        0 for a name the parser refuses with its own message.

    Examples
    --------
    >>> name_pattern_count("mlm:2", 5), name_pattern_count("ar", 5)
    (20, 4)
    """
    kind, _, param = name.partition(":")
    return pattern_count(kind, param, length)[0]


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


def split_name(spec: str, length: int) -> tuple[str, str]:
    """The one check of an objective's name and length: ``(kind, param)`` of a known form.

    Parameters
    ----------
    spec : str
        The name, e.g. ``"mlm:0.15"``.
    length : int
        ``T``.

    Returns
    -------
    tuple of str
        The kind (a key of :data:`lookaround.theory.objective_kinds.KINDS`) and its parameter.

    Raises
    ------
    InputError
        A length outside ``[2, 4096]``, or a name of no known form.

    Examples
    --------
    >>> split_name("mlm:0.15", 10)
    ('mlm', '0.15')
    """
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
    record = KINDS.get(kind)
    if record is None or not record.accepts(param):
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
    kind, param = split_name(spec, length)
    _check_size(kind, param, spec, length)
    record = KINDS[kind]
    if record.sizes is not None:
        return Objective.exchangeable(str(spec), length, record.sizes(param, spec, length))
    assert record.law is not None  # a record has one or the other (ObjectiveKind)
    with collector_paused():
        total: dict[tuple[tuple[int, ...], int], Fraction] = {}
        record.law(total, length, param, spec)
        keys = sorted(total)  # (S, i) tuples sort as Pattern orders them, 3x faster
        patterns = tuple(Pattern(visible, i) for visible, i in keys)
        fractions = tuple(total[key] for key in keys)
    return Objective(str(spec), length, patterns, _floats(fractions), fractions)


def _floats(fractions: tuple[Fraction, ...]) -> np.ndarray:
    """``float(f)`` of each, computed once per distinct object: a law shares a few (vmlm at
    ``T = 16``: 16 for 524,288 patterns), and a Fraction hashes slowly."""
    _, first, inverse = np.unique(
        np.fromiter(map(id, fractions), np.int64, len(fractions)),
        return_index=True,
        return_inverse=True,
    )
    distinct = np.array([_float(fractions[j]) for j in first])
    return distinct[inverse.reshape(-1)]


def _float(fraction: Fraction) -> float:
    """``float(fraction)``, as every weight is rounded."""
    return fraction.numerator / fraction.denominator


def _exchangeable(
    sizes: dict[int, Fraction], length: int
) -> tuple[tuple[Pattern, ...], tuple[Fraction, ...]]:
    """Every ``(S, i)`` with ``i`` not in ``S`` and ``|S|`` in ``sizes``, in order, with its
    weight, written set by set (:func:`lookaround.theory.exchangeable.ordered_sets`): no table is built or sorted (vmlm
    at ``T = 16``: 0.55-0.8 s against 1.0-1.6 s)."""
    patterns: list[Pattern] = []
    fractions: list[Fraction] = []
    for visible, targets in ordered_sets(sizes, length):
        patterns.extend([Pattern(visible, i) for i in targets])
        fractions.extend(itertools.repeat(sizes[len(visible)], len(targets)))
    return tuple(patterns), tuple(fractions)


def as_objective(value: object, length: int, what: str = "objective") -> Objective:
    """The one place a library function takes an objective: an :class:`Objective` of length
    ``length``, or a name that :func:`parse_objective` reads at that length.

    Parameters
    ----------
    value : Objective or str
        What the caller passed.
    length : int
        ``T`` of the source.
    what : str
        The parameter's name, for the message.

    Returns
    -------
    Objective

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
    patterns from the name's law instead of enumerating them).

    Parameters
    ----------
    value : Objective or str
        What the caller passed.
    what : str
        The parameter's name, for the message.

    Returns
    -------
    str
    """
    if isinstance(value, Objective):
        return value.name
    if isinstance(value, str):
        return value
    raise TypeError(
        f"{what} must be an Objective or an objective name (str), got {type(value).__name__}"
    )
