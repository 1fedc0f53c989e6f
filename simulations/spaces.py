"""The spaces a search walks: unconstrained coordinates and the source specs they stand for.

A family's real knobs through logistic maps onto the inner 98% of their ranges, or a
class-conditional Markov chain of a given shape as softmax logits; and the rounding of a
found source's laws to short decimals, which its certificate is proved on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.special import expit, softmax

from lookaround.base.errors import InputError
from lookaround.theory.families import FAMILIES, parse_family_call

__all__ = [
    "DENOMINATORS",
    "PROBABILITIES",
    "SearchSpace",
    "above_floors",
    "family_space",
    "probabilities_of",
    "round_spec",
    "shape_space",
    "space_of",
]

DENOMINATORS = (4, 10, 20, 100, 1000, 10_000)  # short decimals, tried in this order


INSET = 0.01  # a family's knobs are searched on the inner 98% of their ranges


MAX_SHAPE = (4, 4, 8)  # r, V, T: the exact analysis of every step stays well under a second


# A shape search keeps away from the limits where a claim degenerates (a class of prior ~0, a
# deterministic token): every class prior at least PRIOR_FLOOR, every other probability at
# least PROB_FLOOR, unless asked otherwise (--allow-degenerate). Both are multiples of 1/100,
# so the rounding keeps them.
PRIOR_FLOOR = 0.1


PROB_FLOOR = 0.01


PROBABILITIES = ("prior", "init", "trans", "emit")  # the spec's fields that are laws


class SpecOf(Protocol):
    """The source spec of coordinates ``u``, at the given sizes of the shrinkable knobs."""

    def __call__(self, u: np.ndarray, sizes: dict | None = None) -> dict: ...


@dataclass(frozen=True)
class SearchSpace:
    """Unconstrained coordinates ``u`` and the source spec they stand for.

    Attributes
    ----------
    name : str
    dimension : int
        Coordinates ``u``.
    spec : callable
        ``spec(u) -> dict``: the source spec.
    shrinkable : dict
        Coordinates the shrinker may move toward simpler values.
    floors : tuple of float
        Lower bounds kept on class priors.
    """

    name: str
    dimension: int
    spec: SpecOf
    shrinkable: dict = field(default_factory=dict)  # integer knobs that can shrink, and floor
    floors: tuple[float, float] = (0.0, 0.0)  # least class prior, least other probability


def family_space(text: str) -> SearchSpace:
    """A family's real knobs through logistic maps onto the inner 98% of their ranges
    (integer knobs fixed).

    Parameters
    ----------
    text : str
        A family, knobs may be fixed.

    Returns
    -------
    SearchSpace

    Examples
    --------
    >>> space = family_space("markov2(V=3,T=4)")
    >>> space.dimension, space.spec(np.zeros(2))["length"]
    (2, 4)
    """
    family, fixed = parse_family_call(text if "(" in text else text + "()")
    free = [p for p in family.parameters if not p.integer and p.name not in fixed]
    integers = {p.name: int(fixed.get(p.name, p.default)) for p in family.parameters if p.integer}

    def spec(u: np.ndarray, sizes: dict | None = None) -> dict:
        # 1% inside each range: at an end (overlap 1/2, say) the classes can coincide, and a
        # "margin" there is the tie rule acting on posteriors equal to 1e-10
        inner = INSET + (1 - 2 * INSET) * expit(np.asarray(u, dtype=float))
        knobs = {p.name: p.low + (p.high - p.low) * float(x) for p, x in zip(free, inner)}
        return family.spec({**fixed, **integers, **(sizes or {}), **knobs})

    if not free:
        raise InputError(
            f"family {text!r} fixes every real knob: nothing is left to search (free one of "
            f"{', '.join(p.name for p in family.parameters if not p.integer)})"
        )
    floors = {p.name: int(p.low) for p in family.parameters if p.integer and p.name in ("V", "T")}
    return SearchSpace(
        family.name, len(free), spec, {n: (integers[n], f) for n, f in floors.items()}
    )


def shape_space(text: str, *, degenerate: bool = False) -> SearchSpace:
    """Class-conditional Markov chains of shape ``r,V,T`` as softmax logits, each probability
    held at least :data:`PROB_FLOOR` (class priors :data:`PRIOR_FLOOR`) unless ``degenerate``.

    Parameters
    ----------
    text : str
        ``"r,V,T"``.
    degenerate : bool
        Let class priors go below 0.1.

    Returns
    -------
    SearchSpace

    Examples
    --------
    >>> space = shape_space("2,3,4")
    >>> space.dimension, sorted(space.spec(np.zeros(space.dimension)))
    (26, ['family', 'init', 'length', 'prior', 'trans'])
    >>> shape_space("2,2,3").spec(np.r_[-40.0, 40.0, np.zeros(12)])["prior"]
    [0.1, 0.9]
    """
    try:
        r, vocab, length = (int(p) for p in text.split(","))
    except ValueError:
        raise InputError(
            f"shape must be r,V,T (three integers), got {text!r}", field="shape"
        ) from None
    for name, value, top, low in zip("rVT", (r, vocab, length), MAX_SHAPE, (2, 2, 2)):
        if not low <= value <= top:
            raise InputError(f"shape {name} must be in [{low}, {top}], got {value}", field="shape")
    blocks = (r, r * vocab, r * vocab * vocab)
    prior_floor, floor = (0.0, 0.0) if degenerate else (PRIOR_FLOOR, PROB_FLOOR)

    def law(logits: np.ndarray, lowest: float) -> list:
        # the floor, and the rest of the mass by softmax: every row sums to 1 exactly as before
        rows = softmax(logits, axis=-1)
        return (lowest + (1 - lowest * logits.shape[-1]) * rows).tolist()

    def spec(u: np.ndarray, sizes: dict | None = None) -> dict:
        prior, init, trans = np.split(u, np.cumsum(blocks)[:2])
        return {
            "family": "markov",
            "prior": law(prior, prior_floor),
            "init": law(init.reshape(r, vocab), floor),
            "trans": law(trans.reshape(r, vocab, vocab), floor),
            "length": int((sizes or {}).get("T", length)),
        }

    name = f"markov {r},{vocab},{length}" + (" (degenerate allowed)" if degenerate else "")
    return SearchSpace(name, sum(blocks), spec, {"T": (length, 2)}, (prior_floor, floor))


def round_spec(spec: dict, denominator: int) -> dict:
    """Every probability row of ``spec`` rounded to multiples of ``1/denominator``, summing
    to exactly 1 (largest remainders), written as short decimals.

    Parameters
    ----------
    spec : dict
        A source spec.
    denominator : int
        The grid.

    Returns
    -------
    dict

    Examples
    --------
    >>> round_spec({"family": "iid", "prior": [0.333, 0.667], "emit": [[0.1, 0.9]] * 2,
    ...             "length": 2}, 10)["prior"]
    [0.3, 0.7]
    """

    def rows(value):
        array = np.asarray(value, dtype=float)
        if array.ndim == 1:
            scaled = array * denominator
            counts = np.floor(scaled).astype(int)
            short = denominator - counts.sum()
            counts[np.argsort(-(scaled - counts), kind="stable")[:short]] += 1
            return [float(f"{c / denominator:.6g}") for c in counts]
        return [rows(v) for v in value]

    return {key: rows(v) if key in PROBABILITIES else v
            for key, v in spec.items()}  # fmt: skip


def above_floors(spec: dict, floors: tuple[float, float]) -> bool:
    """Whether the class priors and every other probability keep the space's floors.

    Parameters
    ----------
    spec : dict
        A source spec.
    floors : tuple of float
        The floor of the class priors and that of every other probability.

    Returns
    -------
    bool
    """
    prior_floor, floor = floors
    rest = probabilities_of(spec, PROBABILITIES[1:])
    lowest = float(np.min(rest)) if rest.size else 1.0
    return min(spec["prior"]) >= prior_floor - 1e-12 and lowest >= floor - 1e-12


def probabilities_of(spec: dict, keys: tuple[str, ...]) -> np.ndarray:
    """The probabilities of ``spec``'s laws among ``keys``, flattened into one array.

    Parameters
    ----------
    spec : dict
        A source spec.
    keys : tuple of str
        Its laws to read.

    Returns
    -------
    ndarray
    """
    found = [np.ravel(np.asarray(spec[key], dtype=float)) for key in keys if key in spec]
    return np.concatenate(found) if found else np.zeros(0)


def space_of(family: str | None, shape: str | None, *, degenerate: bool = False) -> SearchSpace:
    """The search space of a family or a shape (exactly one of them); ``degenerate`` lifts a
    shape's floors.

    Parameters
    ----------
    family : str or None
        A family to search.
    shape : str or None
        Or a shape ``"r,V,T"``.
    degenerate : bool
        Let a shape's class priors go below 0.1.

    Returns
    -------
    SearchSpace
    """
    if family is not None and shape is None:
        if family.split("(")[0] not in FAMILIES:
            raise InputError(f"family {family!r} is unknown (families: {', '.join(FAMILIES)})",
                             field="family")  # fmt: skip
        return family_space(family)
    if shape is not None and family is None:
        return shape_space(shape, degenerate=degenerate)
    raise InputError("give exactly one of family and shape")
